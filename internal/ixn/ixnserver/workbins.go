package ixnserver

import (
	"cmp"

	"github.com/parley-chat/parley/internal/wire"
)

// workbinKey names the workbin of agent that RequestWorkbinNotifications
// follows; an empty workbin follows all of the agent's.
func workbinKey(agent, workbin string) string { return agent + "/" + workbin }

// workbinNotifyRequest is the body of RequestWorkbinNotifications and its cancel.
type workbinNotifyRequest struct {
	AgentID string `json:"agentId,omitempty"`
	Workbin string `json:"workbin,omitempty"`
}

// workbinTarget reads a workbin notification request: an agent follows its
// own workbins only (agentId empty or its own), other clients any agent's.
func (s *Server) workbinTarget(p *peer, m wire.Message) (workbinNotifyRequest, error) {
	var req workbinNotifyRequest
	if err := m.Bind(&req); err != nil {
		return req, err
	}
	req.AgentID = cmp.Or(req.AgentID, p.agent)
	switch {
	case p.kind == kindAgent && req.AgentID != p.agent:
		return req, wire.Errorf(wire.CodeNotAllowed, "an agent follows its own workbins only")
	case req.AgentID == "":
		return req, wire.Errorf(wire.CodeBadRequest, "agentId is required")
	}
	if _, ok := s.engine.Agent(req.AgentID); !ok {
		return req, wire.Errorf(wire.CodeNoSuchAgent, "no agent %s", req.AgentID)
	}
	return req, nil
}

// workbinNotifications has EventWorkbinContentChanged of a workbin (or of
// all of an agent's) sent to this connection too, until cancelled.
func workbinNotifications(s *Server, p *peer, m wire.Message) (reply, error) {
	req, err := s.workbinTarget(p, m)
	if err != nil {
		return reply{}, err
	}
	key := workbinKey(req.AgentID, req.Workbin)
	p.workbins[key] = true
	s.workbins.add(key, p)
	return reply{body: req}, nil
}

func cancelWorkbinNotifications(s *Server, p *peer, m wire.Message) (reply, error) {
	req, err := s.workbinTarget(p, m)
	if err != nil {
		return reply{}, err
	}
	key := workbinKey(req.AgentID, req.Workbin)
	delete(p.workbins, key)
	s.workbins.remove(key, p)
	return reply{body: req}, nil
}

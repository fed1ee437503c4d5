package ixnserver

import (
	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/wire"
)

// mediaRequest is the body of the per-media agent requests: the media type
// and, for Not Ready and its reason changes, the reason code.
type mediaRequest struct {
	MediaType string `json:"mediaType"`
	Reason    string `json:"reason,omitempty"`
}

// reasonRequest is the body of RequestChangeAgentStateReason.
type reasonRequest struct {
	Reason string `json:"reason"`
}

// stateReply answers an agent state request with the agent's state after
// it, or its error.
func (s *Server) stateReply(p *peer, out ixn.Output, err error) (reply, error) {
	if err != nil {
		return reply{}, err
	}
	a, _ := s.engine.Agent(p.agent)
	return reply{body: agentBody(a), out: out}, nil
}

// mediaHandler serves a per-media request with op.
func mediaHandler(op func(s *Server, agent string, req mediaRequest) (ixn.Output, error)) handler {
	return func(s *Server, p *peer, m wire.Message) (reply, error) {
		var req mediaRequest
		if err := m.Bind(&req); err != nil {
			return reply{}, err
		}
		out, err := op(s, p.agent, req)
		return s.stateReply(p, out, err)
	}
}

var (
	addMedia = mediaHandler(func(s *Server, agent string, req mediaRequest) (ixn.Output, error) {
		return s.engine.AddMedia(s.clock.Now(), agent, req.MediaType)
	})
	removeMedia = mediaHandler(func(s *Server, agent string, req mediaRequest) (ixn.Output, error) {
		return s.engine.RemoveMedia(s.clock.Now(), agent, req.MediaType)
	})
	notReadyForMedia = mediaHandler(func(s *Server, agent string, req mediaRequest) (ixn.Output, error) {
		return s.engine.NotReadyForMedia(s.clock.Now(), agent, req.MediaType, req.Reason)
	})
	cancelNotReadyForMedia = mediaHandler(func(s *Server, agent string, req mediaRequest) (ixn.Output, error) {
		return s.engine.CancelNotReadyForMedia(s.clock.Now(), agent, req.MediaType)
	})
	changeMediaStateReason = mediaHandler(func(s *Server, agent string, req mediaRequest) (ixn.Output, error) {
		return s.engine.ChangeMediaStateReason(s.clock.Now(), agent, req.MediaType, req.Reason)
	})
	dndOn  = dndHandler(true)
	dndOff = dndHandler(false)
)

func dndHandler(on bool) handler {
	return func(s *Server, p *peer, m wire.Message) (reply, error) {
		if err := m.Bind(&empty{}); err != nil {
			return reply{}, err
		}
		out, err := s.engine.SetDND(s.clock.Now(), p.agent, on)
		return s.stateReply(p, out, err)
	}
}

func changeAgentStateReason(s *Server, p *peer, m wire.Message) (reply, error) {
	var req reasonRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	out, err := s.engine.ChangeAgentStateReason(s.clock.Now(), p.agent, req.Reason)
	return s.stateReply(p, out, err)
}

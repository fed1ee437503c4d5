package ixnserver

import (
	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/wire"
)

// Values of allow-multiple-agent-connections other than "true".
const (
	multipleRefused     = "false"
	multipleForceLogout = "force-logout"
)

func agentLogin(s *Server, p *peer, m wire.Message) (reply, error) {
	var req loginRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	if p.agent != "" && p.agent != req.AgentID {
		return reply{}, wire.Errorf(wire.CodeInvalidState, "this connection is logged in as %s", p.agent)
	}
	others := len(s.agents[req.AgentID])
	if _, mine := s.agents[req.AgentID][p]; mine {
		others--
	}
	if others > 0 && s.allow == multipleRefused {
		return reply{}, wire.Errorf(wire.CodeAlreadyLoggedIn, "agent %s is logged in on another connection", req.AgentID)
	}
	if s.cfg.Options.Settings.AgentLoginControl == "ignore" {
		req.Place = req.AgentID
	}
	capacity := -1
	if req.Media != nil {
		capacity = req.Media["chat"]
	}
	cred := p.cred
	p.cred = ixn.Credential{}
	a, out, err := s.engine.Login(s.clock.Now(), cred, req.Place, capacity)
	if err != nil {
		return reply{}, err
	}
	if s.allow == multipleForceLogout {
		s.forceLogout(req.AgentID, p)
	}
	p.agent = req.AgentID
	s.agents.add(p.agent, p)
	body := loginReply{agentReply: agentBody(a), Interactions: s.held(a.ID)}
	body.Reasons = s.engine.Reasons(a.ID)
	return reply{body: body, out: out}, nil
}

// held lists the interactions agent holds, each with a grant to join its
// chat: a desktop that logs in again after its connection, its web API or
// the primary was lost joins them again without an invitation.
func (s *Server) held(agent string) []heldInteraction {
	list := []heldInteraction{}
	for _, in := range s.engine.Held(agent) {
		list = append(list, heldInteraction{Interaction: in, Grant: s.grant(agent, in.ID)})
	}
	return list
}

// authenticate checks the password of a RequestAgentLogin, before the
// server's lock is taken: PBKDF2 is slow by design, and one login, or a
// flood of wrong ones, must not stall every other request. Any other
// message, a login that fails, or one within its agent's backoff after
// failures (throttle.go), gets no credential, which Login refuses.
func (s *Server) authenticate(m wire.Message) ixn.Credential {
	if m.Name != wire.RequestAgentLogin {
		return ixn.Credential{}
	}
	var req loginRequest
	if m.Bind(&req) != nil {
		return ixn.Credential{}
	}
	var cred ixn.Credential
	s.logins.check(req.AgentID, s.clock.Now(), func() bool {
		var err error
		cred, err = s.engine.Authenticate(req.AgentID, req.Password)
		return err == nil
	})
	return cred
}

// forceLogout takes agent's other connections away from it and closes them.
func (s *Server) forceLogout(agent string, keep *peer) {
	for q := range s.agents[agent] {
		if q == keep {
			continue
		}
		s.agents.remove(agent, q)
		q.agent = ""
		_ = q.conn.Notify(wire.EventForcedDisconnect, map[string]string{"agentId": agent, "reason": "logged in elsewhere"})
		q.conn.Close()
	}
}

func agentBody(a ixn.Agent) agentReply {
	return agentReply{AgentID: a.ID, Place: a.Place, Capacity: a.Capacity, Ready: a.Ready, Reason: a.Reason, Status: a.Status()}
}

func agentLogout(s *Server, p *peer, m wire.Message) (reply, error) {
	if err := m.Bind(&empty{}); err != nil {
		return reply{}, err
	}
	agent := p.agent
	p.agent = ""
	var out ixn.Output
	if s.agents.remove(agent, p) {
		var err error
		if out, err = s.engine.Logout(s.clock.Now(), agent); err != nil {
			return reply{}, err
		}
	}
	return reply{body: map[string]string{"agentId": agent}, out: out}, nil
}

func agentAvailable(s *Server, p *peer, m wire.Message) (reply, error) {
	if err := m.Bind(&empty{}); err != nil {
		return reply{}, err
	}
	return s.setReady(p, true, "")
}

func agentNotAvailable(s *Server, p *peer, m wire.Message) (reply, error) {
	var req notReadyRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	return s.setReady(p, false, req.Reason)
}

func (s *Server) setReady(p *peer, ready bool, reason string) (reply, error) {
	out, err := s.engine.SetReady(s.clock.Now(), p.agent, ready, reason)
	if err != nil {
		return reply{}, err
	}
	a, _ := s.engine.Agent(p.agent)
	return reply{body: agentBody(a), out: out}, nil
}

func accept(s *Server, p *peer, m wire.Message) (reply, error) {
	var req interactionRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	out, err := s.engine.Accept(s.clock.Now(), p.agent, req.InteractionID)
	if err != nil {
		return reply{}, err
	}
	in, _ := s.engine.Interaction(req.InteractionID)
	body := map[string]any{"interactionId": in.ID, "interaction": in}
	if g := s.grant(p.agent, in.ID); g != "" {
		body["grant"] = g // as in the pull reply: no grant field without a Trust
	}
	return reply{body: body, out: out}, nil
}

func reject(s *Server, p *peer, m wire.Message) (reply, error) {
	var req interactionRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	out, err := s.engine.Reject(s.clock.Now(), p.agent, req.InteractionID)
	return idReply(req.InteractionID, out, err)
}

func placeInWorkbin(s *Server, p *peer, m wire.Message) (reply, error) {
	var req workbinRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	out, err := s.engine.PlaceInWorkbin(s.clock.Now(), p.agent, req.InteractionID, req.Workbin)
	return idReply(req.InteractionID, out, err)
}

func workbinContent(s *Server, p *peer, m wire.Message) (reply, error) {
	var req workbinContentRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	list, err := s.engine.WorkbinContent(p.agent, req.Workbin)
	if err != nil {
		return reply{}, err
	}
	return reply{name: wire.EventWorkbinContent,
		body: interactionsReply{Workbin: req.Workbin, AgentID: p.agent, Interactions: nonNil(list)}}, nil
}

func transfer(s *Server, p *peer, m wire.Message) (reply, error) {
	var req transferRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	if (req.Queue == "") == (req.AgentID == "") {
		return reply{}, wire.Errorf(wire.CodeBadRequest, "give either queue or agentId")
	}
	out, err := s.engine.Transfer(s.clock.Now(), p.agent, req.InteractionID, req.Queue, req.AgentID)
	return idReply(req.InteractionID, out, err)
}

func conference(s *Server, p *peer, m wire.Message) (reply, error) {
	var req conferenceRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	out, err := s.engine.Conference(s.clock.Now(), p.agent, req.InteractionID, req.AgentID)
	return idReply(req.InteractionID, out, err)
}

// leaveUnjoined is the reason of a RequestLeaveInteraction by an agent that
// accepted an interaction but could not join its chat.
const leaveUnjoined = "unjoined"

type leaveRequest struct {
	InteractionID string `json:"interactionId"`
	// Reason is empty, or leaveUnjoined: the agent is kept away from the
	// interaction and routing backs off (ixn.Engine.LeaveUnjoined).
	Reason string `json:"reason,omitempty"`
}

func leave(s *Server, p *peer, m wire.Message) (reply, error) {
	var req leaveRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	if req.Reason == leaveUnjoined {
		s.log.Warn("agent could not join the chat of an interaction it accepted; routing backs off", "interaction", req.InteractionID, "agent", p.agent)
		out, err := s.engine.LeaveUnjoined(s.clock.Now(), p.agent, req.InteractionID)
		return idReply(req.InteractionID, out, err)
	}
	out, err := s.engine.LeaveInteraction(s.clock.Now(), p.agent, req.InteractionID)
	return idReply(req.InteractionID, out, err)
}

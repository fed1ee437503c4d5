package ixnserver

import (
	"cmp"
	"slices"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/wire"
)

// intrudeRequest is the body of RequestIntrude: the visibility the
// supervisor joins the chat with, VIP (monitor, the default), INT (coach:
// the agents see it) or ALL (barge in).
type intrudeRequest struct {
	InteractionID string `json:"interactionId"`
	Visibility    string `json:"visibility,omitempty"`
}

func intrude(s *Server, p *peer, m wire.Message) (reply, error) {
	var req intrudeRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	vis := cmp.Or(req.Visibility, "VIP")
	if !slices.Contains([]string{"VIP", "INT", "ALL"}, vis) {
		return reply{}, wire.Errorf(wire.CodeBadRequest, "visibility must be VIP, INT or ALL")
	}
	out, err := s.engine.Intrude(s.clock.Now(), p.agent, req.InteractionID)
	if err != nil {
		return reply{}, err
	}
	in, _ := s.engine.Interaction(req.InteractionID)
	body := map[string]any{"interactionId": in.ID, "interaction": in}
	if s.cfg.Trust != nil { // as in the accept reply: no grant field without a Trust
		body["grant"] = s.cfg.Trust.Key.SignGrant(auth.Grant{Agent: p.agent, Session: in.ID, PartyType: "Supervisor",
			Visibility: vis, Expires: s.clock.Now().Add(auth.DefaultGrantTTL)})
	}
	return reply{body: body, out: out}, nil
}

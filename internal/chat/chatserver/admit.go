package chatserver

import (
	"cmp"
	"errors"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// admitJoin checks that the connection p may add the party req names: a bot
// joins as an External party, an agent or a supervisor only with a grant
// the interaction server signed for this session, agent, party type and
// visibility. A rejoin is checked against the party's own key instead.
func (s *Server) admitJoin(p *peer, req joinRequest) error {
	switch {
	case req.UserID != "":
		return nil
	case req.UserType == transcript.External && !p.id.Has(auth.RoleBot):
		return wire.Errorf(wire.CodeRoleRefused, "only a configured bot joins as an External party")
	case req.UserType == transcript.External:
		return nil
	case !p.id.Has(auth.RoleAgent):
		return wire.Errorf(wire.CodeRoleRefused, "a bot joins as an External party only")
	case s.cfg.Trust == nil:
		return nil
	}
	g, err := s.cfg.Trust.Key.VerifyGrant(req.Grant, s.now())
	if err == nil {
		vis := cmp.Or(string(req.Visibility), string(transcript.VisAll))
		err = g.Check(req.SessionID, req.PersonID, string(req.UserType), vis)
	}
	return grantError(err)
}

// grantError maps the grant errors of package auth to their wire codes.
func grantError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, auth.ErrGrantExpired):
		return wire.Errorf(wire.CodeGrantExpired, "the grant to join this chat has expired; accept the interaction again")
	case errors.Is(err, auth.ErrGrantMismatch):
		return wire.Errorf(wire.CodeGrantMismatch, "the grant is for another chat, agent, party type or visibility")
	}
	return wire.Errorf(wire.CodeGrantInvalid, "joining a chat needs a grant from the interaction server")
}

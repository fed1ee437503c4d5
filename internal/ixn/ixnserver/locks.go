package ixnserver

import "github.com/parley-chat/parley/internal/wire"

func lockInteraction(s *Server, p *peer, m wire.Message) (reply, error) {
	var req interactionRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	out, err := s.engine.Lock(s.clock.Now(), actor(p), req.InteractionID)
	return idReply(req.InteractionID, out, err)
}

func unlockInteraction(s *Server, p *peer, m wire.Message) (reply, error) {
	var req interactionRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	out, err := s.engine.Unlock(s.clock.Now(), actor(p), req.InteractionID)
	return idReply(req.InteractionID, out, err)
}

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

// publishRequest is the body of RequestPublish.
type publishRequest struct {
	InteractionID string            `json:"interactionId,omitempty"`
	UserData      map[string]string `json:"userData"`
}

func publish(s *Server, p *peer, m wire.Message) (reply, error) {
	var req publishRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	out, err := s.engine.Publish(s.clock.Now(), p.name, req.InteractionID, req.UserData)
	if err != nil {
		return reply{}, err
	}
	return reply{body: map[string]string{"interactionId": req.InteractionID}, out: out}, nil
}

// unregister ends the client's registration, as a disconnection does, and
// keeps the connection: it may register again.
func unregister(s *Server, p *peer, m wire.Message) (reply, error) {
	if err := m.Bind(&empty{}); err != nil {
		return reply{}, err
	}
	name := p.name
	s.release(p, false)
	return reply{body: map[string]string{"clientName": name}}, nil
}

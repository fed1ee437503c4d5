package ixnserver

import (
	"strings"

	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/wire"
)

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

// snapshotRequest is the body of the snapshot requests.
type snapshotRequest struct {
	SnapshotID string `json:"snapshotId,omitempty"`
	Queue      string `json:"queue,omitempty"`
	Condition  string `json:"condition,omitempty"`
	From       int    `json:"from,omitempty"`
	Count      int    `json:"count,omitempty"`
}

// snapshotReply is the body of EventSnapshotTaken and
// EventSnapshotInteractions.
type snapshotReply struct {
	SnapshotID   string            `json:"snapshotId"`
	Count        int               `json:"count"`
	Interactions []ixn.Interaction `json:"interactions,omitempty"`
}

func takeSnapshot(s *Server, p *peer, m wire.Message) (reply, error) {
	var req snapshotRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	c, err := ixn.ParseCondition(req.Condition)
	if err != nil {
		return reply{}, wire.Errorf(wire.CodeBadRequest, "%s", strings.TrimPrefix(err.Error(), "ixn: "))
	}
	id, n, err := s.engine.TakeSnapshot(s.clock.Now(), p.name, req.Queue, c)
	if err != nil {
		return reply{}, err
	}
	return reply{name: wire.EventSnapshotTaken, body: snapshotReply{SnapshotID: id, Count: n}}, nil
}

func snapshotInteractions(s *Server, p *peer, m wire.Message) (reply, error) {
	var req snapshotRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	list, err := s.engine.SnapshotInteractions(p.name, req.SnapshotID, req.From, req.Count)
	if err != nil {
		return reply{}, err
	}
	return reply{name: wire.EventSnapshotInteractions,
		body: snapshotReply{SnapshotID: req.SnapshotID, Count: len(list), Interactions: list}}, nil
}

func releaseSnapshot(s *Server, p *peer, m wire.Message) (reply, error) {
	var req snapshotRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	if err := s.engine.ReleaseSnapshot(p.name, req.SnapshotID); err != nil {
		return reply{}, err
	}
	return reply{body: map[string]string{"snapshotId": req.SnapshotID}}, nil
}

package chatserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/wire"
)

// The customer panel of the agent desktop: for an agent in a chat, the
// contact the customer's EmailAddress names in the contact store, and that
// contact's previous chats with their transcripts.

// historyLimit bounds the previous chats one request returns, newest first.
const historyLimit = 10

// historyRequest (RequestGetContactHistory) names the agent's party.
type historyRequest struct {
	partyRef
}

// historyReply is EventContactHistory's body. Contact is nil when the
// customer gave no email address or none is known.
type historyReply struct {
	SessionID    string          `json:"sessionId"`
	Contact      *historyContact `json:"contact"`
	Interactions []historyChat   `json:"interactions"`
}

type historyContact struct {
	ID           string `json:"id"`
	FirstName    string `json:"firstName"`
	LastName     string `json:"lastName"`
	EmailAddress string `json:"emailAddress"`
	Nickname     string `json:"nickname"`
}

type historyChat struct {
	InteractionID string            `json:"interactionId"`
	Subject       string            `json:"subject"`
	StartedAt     int64             `json:"startedAt"` // ms since the epoch
	EndedAt       int64             `json:"endedAt"`
	UserData      map[string]string `json:"userData"`
	Transcript    json.RawMessage   `json:"transcript"` // the final transcript's JSON: {sessionId, startAt, messages}
}

// contactHistory serves RequestGetContactHistory to an agent-side party of
// the session.
func (s *Server) contactHistory(p *peer, m wire.Message) {
	var req historyRequest
	if err := m.Bind(&req); err != nil {
		s.reject(p, m, err)
		return
	}
	s.agentReply(p, m, req.partyRef, wire.EventContactHistory, func(ctx context.Context, e *entry) (any, error) {
		return s.history(ctx, e.id, e.sess.UserData()["EmailAddress"])
	})
}

// agentReply runs f for an agent-side party of the session ref names, once
// authenticated, and answers with event and f's result. f reads the
// contact store on the session's drainer: short indexed reads, for the
// desktop of an agent in that chat.
func (s *Server) agentReply(p *peer, m wire.Message, ref partyRef, event string, f func(context.Context, *entry) (any, error)) {
	e := s.sessions.get(ref.SessionID)
	if e == nil {
		s.reject(p, m, s.notServed(ref.SessionID))
		return
	}
	ok := s.exec(e, func(ctx context.Context) {
		if _, err := s.authenticate(ctx, p, e, ref, basicSide); err != nil {
			s.reject(p, m, err)
			return
		}
		body, err := f(ctx, e)
		if err != nil {
			if wire.AsError(err) == nil {
				s.log.Warn("contact store not read", "session", e.id, "request", m.Name, "err", err)
				err = wire.Errorf(wire.CodeStoreFailed, "the contact store could not be read")
			}
			s.reject(p, m, err)
			return
		}
		p.conn.Reply(m, event, body)
	})
	if !ok {
		s.reject(p, m, wire.Errorf(wire.CodeShuttingDown, "the chat server is shutting down"))
	}
}

// history returns the contact of email and its chats other than session id.
func (s *Server) history(ctx context.Context, id, email string) (historyReply, error) {
	out := historyReply{SessionID: id, Interactions: []historyChat{}}
	if email == "" {
		return out, nil
	}
	c, err := s.cfg.Contacts.ContactByEmail(ctx, email)
	if errors.Is(err, contact.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("contact of the customer: %w", err)
	}
	out.Contact = &historyContact{ID: c.ID, FirstName: c.FirstName, LastName: c.LastName, EmailAddress: c.EmailAddress, Nickname: c.Nickname}
	ins, err := s.cfg.Contacts.ContactInteractions(ctx, c.ID)
	if err != nil {
		return out, fmt.Errorf("chats of contact %s: %w", c.ID, err)
	}
	for _, in := range ins {
		if in.ID == id || len(out.Interactions) == historyLimit {
			continue
		}
		tr := json.RawMessage(in.TranscriptJSON)
		if !json.Valid(tr) {
			tr = json.RawMessage("null")
		}
		out.Interactions = append(out.Interactions, historyChat{InteractionID: in.ID, Subject: in.Subject,
			StartedAt: in.StartedAt.UnixMilli(), EndedAt: in.EndedAt.UnixMilli(), UserData: in.UserData, Transcript: tr})
	}
	return out, nil
}

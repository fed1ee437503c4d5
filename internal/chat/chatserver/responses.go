package chatserver

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/wire"
)

// Standard responses: canned replies kept in the contact store, which an
// agent in a chat searches and inserts (the desktop), and adds.

// responsesLimit bounds the responses one search returns.
const responsesLimit = 20

// responsesRequest is RequestGetStandardResponses: the agent's party and
// the search text.
type responsesRequest struct {
	partyRef
	Query string `json:"query"`
}

// saveResponseRequest is RequestSaveStandardResponse: a new response, or a
// change of the one with ID.
type saveResponseRequest struct {
	partyRef
	ID   string `json:"id"`
	Name string `json:"name"`
	Text string `json:"text"`
}

// responsesReply is EventStandardResponses' body.
type responsesReply struct {
	Responses []standardResponse `json:"responses"`
}

type standardResponse struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Text string `json:"text"`
}

func (s *Server) standardResponses(p *peer, m wire.Message) {
	var req responsesRequest
	if err := m.Bind(&req); err != nil {
		s.reject(p, m, err)
		return
	}
	s.agentReply(p, m, req.partyRef, wire.EventStandardResponses, func(ctx context.Context, _ *entry) (any, error) {
		rs, err := s.cfg.Contacts.StandardResponses(ctx, strings.TrimSpace(req.Query), responsesLimit)
		if err != nil {
			return nil, err
		}
		return replyOf(rs...), nil
	})
}

func (s *Server) saveStandardResponse(p *peer, m wire.Message) {
	var req saveResponseRequest
	if err := m.Bind(&req); err != nil {
		s.reject(p, m, err)
		return
	}
	r := contact.StandardResponse{ID: req.ID, Name: strings.TrimSpace(req.Name), Text: strings.TrimSpace(req.Text)}
	switch {
	case r.Name == "" || r.Text == "":
		s.reject(p, m, wire.Errorf(wire.CodeBadRequest, "a standard response needs a name and a text"))
		return
	case utf8.RuneCountInString(r.Name) > contact.MaxResponseName || utf8.RuneCountInString(r.Text) > contact.MaxResponseText:
		s.reject(p, m, wire.Errorf(wire.CodeTooLarge, "a standard response has at most 80 characters of name and 4000 of text"))
		return
	}
	s.agentReply(p, m, req.partyRef, wire.EventStandardResponses, func(ctx context.Context, _ *entry) (any, error) {
		saved, err := s.cfg.Contacts.SaveStandardResponse(ctx, r)
		if err != nil {
			return nil, err
		}
		return replyOf(saved), nil
	})
}

func replyOf(rs ...contact.StandardResponse) responsesReply {
	out := responsesReply{Responses: make([]standardResponse, 0, len(rs))}
	for _, r := range rs {
		out.Responses = append(out.Responses, standardResponse{ID: r.ID, Name: r.Name, Text: r.Text})
	}
	return out
}

package ixnproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/parley-chat/parley/internal/wire"
)

// login logs the agent in on every node it reaches, together: the proxy
// remembers the request and logs the agent in again on a node that comes
// back. A login one node refuses is refused, and undone on the others, as
// the seed has it. The reply is the first node's, with the interactions the
// agent still holds on every node.
func login(ctx context.Context, s *session, m wire.Message) (string, any, error) {
	s.mu.Lock()
	s.login = bytes.Clone(m.Body)
	s.mu.Unlock()
	results := s.fanOut(ctx, m)
	var ok []result
	var refused error
	for _, r := range results {
		_, isWire := errors.AsType[*wire.Error](r.err)
		switch {
		case r.err == nil:
			ok = append(ok, r)
		case isWire && !unreachable(r.err) && refused == nil:
			refused = r.err
		}
	}
	if refused != nil || len(ok) == 0 {
		s.mu.Lock()
		s.login = nil
		s.mu.Unlock()
		out := wire.Message{Name: wire.RequestAgentLogout}
		for _, r := range ok {
			_, _ = forward(ctx, r.leg, out)
		}
		if refused == nil {
			refused = wire.Errorf(wire.CodeUnavailable, "no interaction server node can be reached")
		}
		return "", nil, refused
	}
	return "", s.mergeLists(ok, "interactions"), nil
}

// unreachable reports whether err says a node could not be asked.
func unreachable(err error) bool {
	we, ok := errors.AsType[*wire.Error](err)
	return ok && (we.Code == wire.CodeNotAccessible || we.Code == wire.CodeLostServer ||
		we.Code == wire.CodeUnavailable || we.Code == wire.CodeShuttingDown)
}

func logout(ctx context.Context, s *session, m wire.Message) (string, any, error) {
	s.mu.Lock()
	out := s.login == nil && s.kind == "agent"
	s.login = nil
	s.mu.Unlock()
	if out {
		return "", nil, wire.Errorf(wire.CodeNotLoggedIn, "log in first with RequestAgentLogin")
	}
	return everyNode(ctx, s, m)
}

// everyNode sends an agent's request to every node it reaches and answers
// with the first node's reply, or its error when no node took it. The
// proxy answers an agent connection that is not logged in itself, at once.
func everyNode(ctx context.Context, s *session, m wire.Message) (string, any, error) {
	s.mu.Lock()
	out := s.kind == "agent" && s.login == nil && m.Name != wire.RequestAgentLogout
	s.mu.Unlock()
	if out {
		return "", nil, wire.Errorf(wire.CodeNotLoggedIn, "log in first with RequestAgentLogin")
	}
	var first error
	var ok *result
	for _, r := range s.fanOut(ctx, m) {
		switch {
		case r.err == nil && ok == nil:
			ok = &r
		case r.err != nil && first == nil:
			first = r.err
		}
	}
	if ok == nil {
		return "", nil, first
	}
	return reply(ok.reply, nil)
}

// merged asks every node and merges the interactions of their replies
// (RequestGetWorkbinContent, RequestFindInteractions); it fails only when
// no node answered. Limits apply per node, and the interactions come node
// after node, not in one order.
func merged(ctx context.Context, s *session, m wire.Message) (string, any, error) {
	var ok []result
	var first error
	for _, r := range s.fanOut(ctx, m) {
		if r.err == nil {
			ok = append(ok, r)
		} else if first == nil {
			first = r.err
		}
	}
	if len(ok) == 0 {
		return "", nil, first
	}
	return ok[0].reply.Name, s.mergeLists(ok, "interactions"), nil
}

// mergeLists returns the first reply's body with its list field replaced
// by the lists of every reply, concatenated; the cache learns where each
// interaction of the lists is.
func (s *session) mergeLists(rs []result, field string) map[string]json.RawMessage {
	var head map[string]json.RawMessage
	all := []json.RawMessage{}
	for i, r := range rs {
		var b map[string]json.RawMessage
		_ = json.Unmarshal(r.reply.Body, &b)
		if i == 0 || head == nil {
			head = b
		}
		var list []json.RawMessage
		_ = json.Unmarshal(b[field], &list)
		for _, in := range list {
			var ref struct {
				ID string `json:"interactionId"`
			}
			_ = json.Unmarshal(in, &ref)
			s.p.cache.put(ref.ID, r.leg.n)
		}
		all = append(all, list...)
	}
	if head == nil {
		head = map[string]json.RawMessage{}
	}
	head[field], _ = json.Marshal(all)
	return head
}

package ixnproxy

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"

	"github.com/parley-chat/parley/internal/wire"
)

// submit sends a submission to a node that takes its media type and
// tenant, among those the proxy reaches. An id the nodes make goes round
// robin; an id the client chose goes to the node its hash picks, so that a
// retried submission finds the node that took the first attempt (which
// answers 2101, as a single server would) without asking every node. Only
// when that node is down does the proxy ask the others whether the id
// exists before it submits elsewhere.
func submit(ctx context.Context, s *session, m wire.Message) (string, any, error) {
	f := fields(m)
	media, err := stringField(f, "mediaType")
	if err != nil {
		return "", nil, err
	}
	tenant, err := stringField(f, "tenant")
	if err != nil {
		return "", nil, err
	}
	id, err := stringField(f, "interactionId")
	if err != nil {
		return "", nil, err
	}
	media = cmp.Or(media, "chat")
	if n := s.p.cache.get(id); n != nil && id != "" {
		if l := s.legOf(n); l != nil {
			return reply(forward(ctx, l, m))
		}
	}
	takers := s.takers(media, tenant)
	if len(takers) == 0 {
		return "", nil, wire.Errorf(wire.CodeNoServerForMedia, "no interaction server node takes media type %q for tenant %q", media, tenant)
	}
	start := int(s.p.next.Add(1) % uint64(len(takers)))
	if id != "" {
		h := fnv.New32a()
		h.Write([]byte(id))
		start = int(h.Sum32() % uint32(len(takers)))
	}
	for i := range takers {
		l := takers[(start+i)%len(takers)]
		if !l.n.up() {
			continue
		}
		if i > 0 && id != "" { // its own node is down: does another hold it?
			if at, err := s.locate(ctx, id); err == nil {
				return reply(forward(ctx, at, m))
			} else if we, ok := errors.AsType[*wire.Error](err); ok && we.Code == wire.CodeAmbiguousInteraction {
				return "", nil, err
			}
		}
		r, err := forward(ctx, l, m)
		if retryElsewhere(err) {
			continue
		}
		if err == nil {
			var ack struct {
				InteractionID string `json:"interactionId"`
			}
			_ = json.Unmarshal(r.Body, &ack)
			s.p.cache.put(ack.InteractionID, l.n)
		}
		return reply(r, err)
	}
	return "", nil, wire.Errorf(wire.CodeNoServerForMedia, "no interaction server node taking media type %q for tenant %q is reachable", media, tenant)
}

// takers returns the legs to the nodes that take media for tenant.
func (s *session) takers(media, tenant string) []*leg {
	var out []*leg
	for _, l := range s.legList() {
		if l.n.cfg.takes(media, tenant) {
			out = append(out, l)
		}
	}
	return out
}

// retryElsewhere reports whether a submission the node did not take may go
// to another node: the node could not be asked, or could not serve it now.
func retryElsewhere(err error) bool {
	we, ok := errors.AsType[*wire.Error](err)
	if !ok {
		return false
	}
	switch we.Code {
	case wire.CodeNotAccessible, wire.CodeUnavailable, wire.CodeShuttingDown:
		return true
	}
	return false
}

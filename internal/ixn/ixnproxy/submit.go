package ixnproxy

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"

	"github.com/parley-chat/parley/internal/wire"
)

// submit sends a submission to a node that takes its media type and
// tenant, round robin over those the proxy reaches. An interaction id the
// client chose goes to the node that already holds it, if any, which then
// answers 2101 as a single server would (a retried submission).
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
	if id != "" {
		l, err := s.locate(ctx, id)
		if we, ok := errors.AsType[*wire.Error](err); ok && we.Code == wire.CodeAmbiguousInteraction {
			return "", nil, err
		}
		if err == nil {
			return reply(forward(ctx, l, m))
		}
	}
	var takers []*leg
	for _, l := range s.legList() {
		if l.n.cfg.takes(media, tenant) {
			takers = append(takers, l)
		}
	}
	if len(takers) == 0 {
		return "", nil, wire.Errorf(wire.CodeNoServerForMedia, "no interaction server node takes media type %q for tenant %q", media, tenant)
	}
	start := int(s.p.next.Add(1))
	for i := range takers {
		l := takers[(start+i)%len(takers)]
		if !l.n.up() {
			continue
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

package ixnproxy

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"

	"github.com/parley-chat/parley/internal/wire"
)

// pull serves a routing client's pull from a view or queue: the nodes are
// asked in turn, from a rotating start, each for what is still missing and
// for at most pull-hold-timeout, until count interactions are in hand. The
// order across nodes is not the queue's (docs/ixn.md, limitations). An
// agent's pull out of its workbin names its interaction and goes to its
// node.
func pull(ctx context.Context, s *session, m wire.Message) (string, any, error) {
	f := fields(m)
	if _, ok := f["interactionId"]; ok {
		return byInteraction(ctx, s, m)
	}
	count := 1
	if raw, ok := f["count"]; ok {
		if json.Unmarshal(raw, &count) != nil {
			return "", nil, wire.Errorf(wire.CodeBadRequest, "count must be a number")
		}
	}
	legs := s.legList()
	start := int(s.p.next.Add(1))
	var got []json.RawMessage
	var first error
	asked := 0
	for i := range legs {
		if len(got) >= max(count, 1) {
			break
		}
		l := legs[(start+i)%len(legs)]
		list, err := s.pullFrom(ctx, l, f, max(count, 1)-len(got))
		if err != nil {
			if first == nil && !unreachable(err) {
				first = err
			}
			continue
		}
		asked++
		got = append(got, list...)
	}
	if asked == 0 && first != nil {
		return "", nil, first
	}
	return wire.EventPulledInteractions, map[string]any{"interactions": nonNil(got)}, nil
}

// pullFrom pulls up to n interactions from l's node, waiting at most
// pull-hold-timeout for its answer.
func (s *session) pullFrom(ctx context.Context, l *leg, f map[string]json.RawMessage, n int) ([]json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, s.p.cfg.Options.PullHoldTimeout)
	defer cancel()
	req := maps.Clone(f)
	req["count"], _ = json.Marshal(n)
	m := wire.Message{Name: wire.RequestPull}
	m.Body, _ = json.Marshal(req)
	r, err := forward(ctx, l, m)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, wire.Errorf(wire.CodeLostServer, "node %s did not answer the pull in time", l.n.cfg.Name)
		}
		return nil, err
	}
	merged := s.mergeLists([]result{{leg: l, reply: r}}, "interactions")
	var list []json.RawMessage
	_ = json.Unmarshal(merged["interactions"], &list)
	return list, nil
}

func nonNil(list []json.RawMessage) []json.RawMessage {
	if list == nil {
		return []json.RawMessage{}
	}
	return list
}

// subscribe follows one interaction on its node, or subscribes the client
// to the merged reporting stream of every node from a position.
func subscribe(ctx context.Context, s *session, m wire.Message) (string, any, error) {
	f := fields(m)
	topic, err := stringField(f, "topic")
	if err != nil {
		return "", nil, err
	}
	if topic == "" {
		name, b, err := byInteraction(ctx, s, m)
		if err == nil {
			id, _ := interactionID(m)
			s.mu.Lock()
			s.watch[id] = true
			s.mu.Unlock()
		}
		return name, b, err
	}
	text, err := stringField(f, "position")
	extra := slices.ContainsFunc(slices.Collect(maps.Keys(f)), func(k string) bool {
		return k != "topic" && k != "position" && k != "fromId"
	})
	if err != nil || topic != "reporting" || extra {
		return "", nil, wire.Errorf(wire.CodeBadRequest, "give interactionId, or topic \"reporting\" with an optional position")
	}
	if raw, ok := f["fromId"]; ok && string(raw) != "0" {
		return "", nil, wire.Errorf(wire.CodeBadRequest, "the proxy's reporting stream resumes from a position (the last event's position), not from an event id")
	}
	pos, err := parsePosition(text)
	if err != nil {
		return "", nil, wire.Errorf(wire.CodeBadRequest, "%v", err)
	}
	s.mu.Lock()
	if s.report != nil {
		s.mu.Unlock()
		return "", nil, wire.Errorf(wire.CodeInProgress, "already subscribed to the reporting stream")
	}
	s.report = pos
	s.mu.Unlock()
	for _, l := range s.legList() {
		if c := l.ready(ctx); c != nil {
			if err := pos.subscribe(ctx, c, l.n); err != nil {
				s.p.log.Warn("reporting subscription failed; the leg reconnects", "node", l.n.cfg.Name, "err", err)
				c.Close() // its next connection subscribes again
			}
		}
	}
	return "", map[string]string{"topic": "reporting", "position": pos.text()}, nil
}

func unsubscribe(ctx context.Context, s *session, m wire.Message) (string, any, error) {
	f := fields(m)
	topic, err := stringField(f, "topic")
	if err != nil {
		return "", nil, err
	}
	if topic == "" {
		id, err := interactionID(m)
		if err != nil {
			return "", nil, err
		}
		s.mu.Lock()
		delete(s.watch, id)
		s.mu.Unlock()
		return byInteraction(ctx, s, m)
	}
	s.mu.Lock()
	s.report = nil
	s.mu.Unlock()
	s.fanOut(ctx, m)
	return "", map[string]string{"topic": topic}, nil
}

// overview merges the nodes' EventOverview: a queue's figures summed over
// the nodes (its oldest wait the longest), an agent's load summed.
func overview(ctx context.Context, s *session, m wire.Message) (string, any, error) {
	type queue struct {
		Name         string   `json:"name"`
		Routing      string   `json:"routing"`
		Waiting      int      `json:"waiting"`
		OldestWait   float64  `json:"oldestWait"`
		Interactions []string `json:"interactions"`
	}
	type view struct {
		Queues []queue           `json:"queues"`
		Agents []json.RawMessage `json:"agents"`
	}
	queues := map[string]*queue{}
	agents := map[string]json.RawMessage{}
	var first error
	answered := 0
	for _, r := range s.fanOut(ctx, m) {
		var v view
		if r.err != nil || json.Unmarshal(r.reply.Body, &v) != nil {
			first = cmpErr(first, r.err)
			continue
		}
		answered++
		for _, q := range v.Queues {
			if have := queues[q.Name]; have != nil {
				have.Waiting += q.Waiting
				have.OldestWait = max(have.OldestWait, q.OldestWait)
				have.Interactions = append(have.Interactions, q.Interactions...)
				continue
			}
			queues[q.Name] = &q
		}
		for _, a := range v.Agents {
			var ref struct {
				ID string `json:"agentId"`
			}
			_ = json.Unmarshal(a, &ref)
			if _, ok := agents[ref.ID]; !ok {
				agents[ref.ID] = a // the agent is logged in on every node: the first node's view of it
			}
		}
	}
	if answered == 0 {
		return "", nil, first
	}
	out := view{Agents: []json.RawMessage{}, Queues: []queue{}}
	for _, name := range slices.Sorted(maps.Keys(queues)) {
		out.Queues = append(out.Queues, *queues[name])
	}
	for _, id := range slices.Sorted(maps.Keys(agents)) {
		out.Agents = append(out.Agents, agents[id])
	}
	return wire.EventOverview, out, nil
}

func cmpErr(have, err error) error {
	if have != nil {
		return have
	}
	return err
}

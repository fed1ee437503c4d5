package ixnproxy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/parley-chat/parley/internal/wire"
)

// position is where a reporting client is in the merged reporting stream:
// the id of the last event it was sent from each node. Its text form,
// "node=id,node=id" sorted by node, goes with every event (position) and
// brings a client back to that point (RequestSubscribe position): each node
// replays from the next id on, so nothing is lost or repeated after a
// reconnect or a restart of the proxy.
type position struct {
	mu   sync.Mutex
	last map[string]int64 // by node name
	// replay is set when the client gave a position: a node it does not
	// name replays from its first event rather than starting live.
	replay bool
}

// parsePosition reads a position's text form; "" is the empty position.
func parsePosition(text string) (*position, error) {
	p := &position{last: map[string]int64{}, replay: text != ""}
	if text == "" {
		return p, nil
	}
	for part := range strings.SplitSeq(text, ",") {
		name, id, ok := strings.Cut(part, "=")
		n, err := strconv.ParseInt(id, 10, 64)
		if !ok || name == "" || err != nil || n < 0 {
			return nil, fmt.Errorf("position %q: want node=eventId,...", text)
		}
		p.last[name] = n
	}
	return p, nil
}

// String returns the text form. p.mu must be held.
func (p *position) String() string {
	parts := make([]string, 0, len(p.last))
	for _, name := range slices.Sorted(maps.Keys(p.last)) {
		parts = append(parts, name+"="+strconv.FormatInt(p.last[name], 10))
	}
	return strings.Join(parts, ",")
}

// text returns the text form.
func (p *position) text() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.String()
}

// subscribe subscribes c, a leg to node n, to n's reporting stream from
// where the position stands: after the last event sent from it, from its
// first for a node the client's position did not name, or live.
func (p *position) subscribe(ctx context.Context, c *wire.Conn, n *node) error {
	p.mu.Lock()
	last, known := p.last[n.cfg.Name]
	p.mu.Unlock()
	body := map[string]any{"topic": "reporting"}
	switch {
	case known:
		body["fromId"] = last + 1
	case p.replay:
		body["fromId"] = 1
	}
	var ack struct {
		LastEventID int64 `json:"lastEventId"`
	}
	if _, err := c.Request(ctx, wire.RequestSubscribe, body, &ack); err != nil {
		return fmt.Errorf("subscribe to reporting: %w", err)
	}
	p.mu.Lock()
	if _, ok := p.last[n.cfg.Name]; !ok && !p.replay {
		p.last[n.cfg.Name] = ack.LastEventID // live: the stream starts after it
	}
	p.mu.Unlock()
	return nil
}

// forward sends the client node n's reporting event m, whose id is id,
// with the node and the position after it; an event at or before the
// position (a replay overlapping what was sent) is dropped.
func (p *position) forward(to *wire.Conn, n *node, id int64, m wire.Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id <= p.last[n.cfg.Name] {
		return
	}
	p.last[n.cfg.Name] = id
	m.Body = withFields(m.Body, map[string]string{"node": n.cfg.Name, "position": p.String()})
	_ = to.Send(m) // under p.mu: positions reach the client in order
}

// reporting returns the session's reporting subscription, or nil.
func (s *session) reporting() *position {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.report
}

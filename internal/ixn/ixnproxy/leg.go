package ixnproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/wire"
)

// leg is a client session's connection to one node: registered there under
// the client's name and type, logged in as its agent, following what it
// follows. It redials the node's primary whenever it is lost.
type leg struct {
	s *session
	n *node

	mu      sync.Mutex
	conn    *wire.Conn    // ready connection, nil while none
	changed chan struct{} // closed and replaced when conn changes
	closed  bool
}

func newLeg(s *session, n *node) *leg { return &leg{s: s, n: n, changed: make(chan struct{})} }

// run keeps the leg connected until the session ends.
func (l *leg) run() {
	ctx := l.s.ctx
	for ctx.Err() == nil {
		ep, nodeChanged, ok := l.n.state()
		if !ok {
			select {
			case <-nodeChanged:
			case <-ctx.Done():
			}
			continue
		}
		c, err := l.connect(ctx, ep)
		if err != nil {
			l.s.p.log.Debug("leg to node failed", "node", l.n.cfg.Name, "client", l.s.name, "err", err)
			t := time.NewTimer(time.Duration(200+rand.IntN(800)) * time.Millisecond)
			select {
			case <-nodeChanged:
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
			continue
		}
		l.set(c)
		<-c.Done()
		l.set(nil)
	}
}

func (l *leg) set(c *wire.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conn = c
	close(l.changed)
	l.changed = make(chan struct{})
}

// connect dials ep and brings the new connection to the session's state:
// registered, logged in, subscribed.
func (l *leg) connect(ctx context.Context, ep service.Endpoint) (*wire.Conn, error) {
	p := l.s.p
	dctx, cancel := context.WithTimeout(ctx, p.cfg.Options.RequestTimeout)
	defer cancel()
	c, err := wire.Dial(dctx, ep.URL("ws", path), p.cfg.Trust.WireOptions(p.wireOpts))
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		c.Close()
		return nil, context.Canceled
	}
	l.s.wg.Go(func() { _ = c.Serve(ctx, wire.HandlerFunc(l.event)) })
	l.mu.Unlock()
	if err := l.restore(dctx, c, ep); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// restore proves the proxy on c and replays the session's state there.
func (l *leg) restore(ctx context.Context, c *wire.Conn, ep service.Endpoint) error {
	if err := l.s.p.cfg.Trust.Handshake(ctx, c, ep); err != nil {
		return err
	}
	s := l.s
	s.mu.Lock()
	reg := map[string]string{"clientName": s.name, "clientType": s.kind}
	login, report := s.login, s.report
	var watch []string
	for id := range s.watch {
		if s.p.cache.get(id) == l.n {
			watch = append(watch, id)
		}
	}
	s.mu.Unlock()
	if _, err := c.Request(ctx, wire.RequestRegisterClient, reg, nil); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if login != nil {
		if _, err := c.Request(ctx, wire.RequestAgentLogin, login, nil); err != nil {
			return fmt.Errorf("log the agent in again: %w", err)
		}
	}
	for _, id := range watch {
		_, _ = c.Request(ctx, wire.RequestSubscribe, map[string]string{"interactionId": id}, nil)
	}
	if report != nil {
		return report.subscribe(ctx, c, l.n)
	}
	return nil
}

// ready returns the leg's connection, waiting while its node is up and the
// leg is connecting; nil when the node cannot be asked before ctx ends.
func (l *leg) ready(ctx context.Context) *wire.Conn {
	for {
		l.mu.Lock()
		c, changed := l.conn, l.changed
		l.mu.Unlock()
		if c != nil {
			select {
			case <-c.Done():
			default:
				return c
			}
		}
		_, nodeChanged, up := l.n.state()
		if !up {
			return nil
		}
		select {
		case <-changed:
		case <-nodeChanged:
		case <-ctx.Done():
			return nil
		}
	}
}

// event forwards what the node sends the client: its events, and the
// reporting stream with each event's node and position. The interaction
// an event names is on this node: the cache learns it.
func (l *leg) event(_ context.Context, _ *wire.Conn, m wire.Message) {
	var ref struct {
		InteractionID string `json:"interactionId"`
		EventID       int64  `json:"eventId"`
	}
	_ = json.Unmarshal(m.Body, &ref)
	l.s.p.cache.put(ref.InteractionID, l.n)
	if ref.EventID > 0 {
		if pos := l.s.reporting(); pos != nil {
			pos.forward(l.s.conn, l.n, ref.EventID, m)
			return
		}
	}
	_ = l.s.conn.Send(m)
}

// withFields returns body (a JSON object) with fields added at its end,
// where they win over any field of the same name.
func withFields(body json.RawMessage, fields map[string]string) json.RawMessage {
	tail, _ := json.Marshal(fields)
	rest := bytes.TrimSpace(body)
	if len(rest) < 2 || rest[0] != '{' || rest[len(rest)-1] != '}' || len(bytes.TrimSpace(rest[1:len(rest)-1])) == 0 {
		return tail
	}
	out := append(bytes.Clone(rest[:len(rest)-1]), ',')
	return append(out, tail[1:]...)
}

// close ends the leg's connection; run then returns with the session.
func (l *leg) close() {
	l.mu.Lock()
	l.closed = true
	c := l.conn
	l.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

package ixnproxy

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/wire"
)

// maxInFlight bounds the requests of one client connection served at once;
// past it the connection's reader waits.
const maxInFlight = 256

// session is one client connection and its legs, one per node.
type session struct {
	p      *Proxy
	conn   *wire.Conn
	id     auth.Identity // who the connection proved to be; set before any request
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // request goroutines and legs
	slots  chan struct{}

	mu     sync.Mutex
	name   string          // clientName; empty until registered
	kind   string          // clientType
	login  json.RawMessage // the agent's RequestAgentLogin, logged in again on a node that comes back
	watch  map[string]bool // interactions followed with RequestSubscribe
	report *position       // the reporting subscription; nil without one
	legs   []*leg          // in the order of p.nodes, once registered
}

func newSession(p *Proxy, c *wire.Conn) *session {
	ctx, cancel := context.WithCancel(context.Background())
	return &session{p: p, conn: c, ctx: ctx, cancel: cancel, slots: make(chan struct{}, maxInFlight), watch: map[string]bool{}}
}

// serve takes one request of the client and serves it on a goroutine of
// its own: a request may wait for several nodes. Replies therefore leave as
// requests complete; parley's clients wait for a reply before the next
// request of the same interaction.
func (s *session) serve(_ context.Context, c *wire.Conn, m wire.Message) {
	s.p.requests.WithLabelValues(m.Name).Inc()
	select {
	case s.slots <- struct{}{}:
	case <-s.ctx.Done():
		return
	}
	s.wg.Go(func() {
		defer func() { <-s.slots }()
		name, body, err := s.request(m)
		if err != nil {
			we := wire.AsError(err)
			_ = c.ReplyError(m, we)
			if we.Code == wire.CodeRoleRefused {
				_ = c.Close()
			}
			return
		}
		if name == "" {
			name = wire.EventAck
		}
		_ = c.Reply(m, name, body)
	})
}

// request checks that the client may send m and runs its handler.
func (s *session) request(m wire.Message) (string, any, error) {
	h, ok := routes[m.Name]
	if !ok {
		return "", nil, wire.Errorf(wire.CodeUnsupported, "%s is not supported by the interaction proxy", m.Name)
	}
	s.mu.Lock()
	registered := s.kind != ""
	s.mu.Unlock()
	if !registered && m.Name != wire.RequestRegisterClient {
		return "", nil, wire.Errorf(wire.CodeNotRegistered, "register first with RequestRegisterClient")
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.p.cfg.Options.RequestTimeout)
	defer cancel()
	return h(ctx, s, m)
}

// legList returns the session's legs.
func (s *session) legList() []*leg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.legs
}

// legOf returns the session's leg to n.
func (s *session) legOf(n *node) *leg {
	for _, l := range s.legList() {
		if l.n == n {
			return l
		}
	}
	return nil
}

// close ends the session's legs and waits for its goroutines.
func (s *session) close() {
	s.cancel()
	for _, l := range s.legList() {
		l.close()
	}
	s.wg.Wait()
}

package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/parley-chat/parley/internal/wire"
)

// basicPath is the chat server's agent-side wire endpoint.
const basicPath = "/wire/basic"

// agents are the simulated agents: per chat server, a few wire connections
// that many agents share. The chat server pushes each agent's events
// (EventSessionInfo) on the connection it joined on; they are routed to
// the session by its id. Its methods are safe for concurrent use.
type agents struct {
	addrs   map[string]string // chat server name -> host:port
	perConn int
	conns   int             // connections per chat server
	byID    sync.Map        // session id -> *session
	wg      sync.WaitGroup  // one Serve goroutine per connection
	ctx     context.Context // the connections' lifetime
	stop    context.CancelFunc

	mu   sync.Mutex // guards pool
	pool map[string][]*wire.Conn
}

// newAgents returns agents for sessions active sessions spread over the
// chat servers at addrs, perConn of them per connection.
func newAgents(addrs map[string]string, sessions, perConn int) *agents {
	ctx, stop := context.WithCancel(context.Background())
	return &agents{addrs: addrs, perConn: perConn, conns: max(1, (sessions+perConn-1)/perConn),
		ctx: ctx, stop: stop, pool: map[string][]*wire.Conn{}}
}

// conn returns the connection slot's agent uses on chat server alias,
// dialling it when it is new or has ended.
func (a *agents) conn(ctx context.Context, alias string, slot int) (*wire.Conn, error) {
	addr, ok := a.addrs[alias]
	if !ok {
		return nil, fmt.Errorf("bench: chat server %q is not among the known chat servers", alias)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	pool := a.pool[alias]
	if pool == nil {
		pool = make([]*wire.Conn, a.conns)
		a.pool[alias] = pool
	}
	i := slot % len(pool)
	if c := pool[i]; c != nil && c.Err() == nil {
		return c, nil
	}
	c, err := wire.Dial(ctx, "ws://"+addr+basicPath, wire.Options{QueueSize: 4 * a.perConn})
	if err != nil {
		return nil, err
	}
	a.wg.Go(func() { _ = c.Serve(a.ctx, wire.HandlerFunc(a.pushed)) })
	pool[i] = c
	return c, nil
}

// push is the part of EventSessionInfo an agent reads.
type push struct {
	SessionID string  `json:"sessionId"`
	Messages  []event `json:"messages"`
}

// pushed routes an EventSessionInfo to its session.
func (a *agents) pushed(_ context.Context, _ *wire.Conn, m wire.Message) {
	if m.Name != wire.EventSessionInfo {
		return
	}
	var p push
	// Leniently, unlike Bind: a client ignores fields it does not read.
	if err := json.Unmarshal(m.Body, &p); err != nil {
		return
	}
	if s, ok := a.byID.Load(p.SessionID); ok {
		s.(*session).agentEvents(p.Messages)
	}
}

// joined is the reply to RequestJoin the agent reads.
type joined struct {
	UserID string `json:"userId"`
}

// join adds an agent for s to its chat and routes the chat's pushes to s.
func (a *agents) join(ctx context.Context, s *session, alias string) (*wire.Conn, string, error) {
	c, err := a.conn(ctx, alias, s.slot)
	if err != nil {
		return nil, "", err
	}
	a.byID.Store(s.chatID(), s)
	var j joined
	if err := agentRequest(ctx, c, wire.RequestJoin, map[string]any{"sessionId": s.chatID(), "nickname": "agent",
		"userType": "Agent"}, &j); err != nil {
		a.byID.Delete(s.chatID())
		return nil, "", fmt.Errorf("bench: join: %w", err)
	}
	return c, j.UserID, nil
}

// agentRequest sends one request of an agent and waits for its reply, at
// most requestTimeout.
func agentRequest(ctx context.Context, c *wire.Conn, name string, body, reply any) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	_, err := c.Request(ctx, name, body, reply)
	return err
}

// forget stops routing a chat's pushes.
func (a *agents) forget(chatID string) { a.byID.Delete(chatID) }

// close closes every connection and waits for their goroutines.
func (a *agents) close() {
	a.stop()
	a.wg.Wait()
}

package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/wire"
)

// basicPath is the chat server's agent-side wire endpoint.
const basicPath = "/wire/basic"

// agents are the simulated agents: per chat server, a few wire connections
// that many agents share. The chat server pushes each agent's events
// (EventSessionInfo) on the connection it joined on; they are routed to
// the session by its id. Its methods are safe for concurrent use.
type agents struct {
	pool *wirePool
	cred *Credentials // signs the agents' grants; nil signs none
	byID sync.Map     // session id -> *session
}

// newAgents returns agents for sessions active sessions spread over the
// chat servers at addrs, perConn of them per connection.
func newAgents(addrs map[string]string, cred *Credentials, sessions, perConn int) *agents {
	a := &agents{cred: cred}
	a.pool = newWirePool(basicPath, addrs, cred, (sessions+perConn-1)/perConn, 4*perConn, wire.HandlerFunc(a.pushed))
	return a
}

// pushed routes an EventSessionInfo to its session.
func (a *agents) pushed(_ context.Context, _ *wire.Conn, m wire.Message) {
	p, ok := decodePush(m, fromClient)
	if !ok {
		return
	}
	if s, ok := a.byID.Load(p.SessionID); ok {
		s.(*session).agentEvents(p.Messages)
	}
}

// joinBody is RequestJoin as the agents send it.
type joinBody struct {
	SessionID string `json:"sessionId"`
	Nickname  string `json:"nickname"`
	PersonID  string `json:"personId"`
	UserType  string `json:"userType"`
	Grant     string `json:"grant,omitempty"`
}

// joined is the reply to RequestJoin the agent reads.
type joined struct {
	UserID    string  `json:"userId"`
	SecureKey string  `json:"secureKey"`
	Messages  []event `json:"messages"` // a rejoin's replay
}

// join adds an agent for s to its chat and routes the chat's pushes to s;
// it returns the connection and the reply.
func (a *agents) join(ctx context.Context, s *session, alias string) (*wire.Conn, joined, error) {
	c, err := a.pool.conn(ctx, alias, s.slot)
	if err != nil {
		return nil, joined{}, err
	}
	a.byID.Store(s.chatID(), s)
	var j joined
	if err := wireRequest(ctx, c, wire.RequestJoin, joinBody{SessionID: s.chatID(), Nickname: "agent", PersonID: "agent",
		UserType: "Agent", Grant: a.grant(s.chatID())}, &j); err != nil {
		a.byID.Delete(s.chatID())
		return nil, joined{}, fmt.Errorf("bench: join: %w", err)
	}
	return c, j, nil
}

// grant signs what lets the bench's agent join chat id, as the interaction
// server signs it for an agent it routed the chat to.
func (a *agents) grant(id string) string {
	if a.cred == nil {
		return ""
	}
	return a.cred.Key.SignGrant(auth.Grant{Agent: "agent", Session: id, PartyType: "Agent", Visibility: "ALL",
		Expires: time.Now().Add(auth.DefaultGrantTTL)})
}

// forget stops routing a chat's pushes.
func (a *agents) forget(chatID string) { a.byID.Delete(chatID) }

// close closes every connection and waits for their goroutines.
func (a *agents) close() { a.pool.close() }

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/wire"
)

// wirePool is a few wire connections to each chat server that many
// simulated parties share, as a web API shares one among its customers and
// a desktop gateway one among its agents: the party of slot i uses
// connection i mod conns of its chat server, dialled on first use (and again
// once it has ended) and served by h. Its methods are safe for concurrent use.
type wirePool struct {
	path  string            // the chat server's endpoint
	addrs map[string]string // chat server name -> host:port
	conns int               // connections per chat server
	opts  wire.Options
	cred  *Credentials // nil: no opening exchange
	h     wire.Handler
	wg    sync.WaitGroup     // one Serve goroutine per connection
	ctx   context.Context    // the connections' lifetime
	stop  context.CancelFunc // ends ctx

	mu   sync.Mutex // guards pool
	pool map[string][]*wire.Conn
}

// newWirePool returns a pool of conns connections per chat server at addrs'
// endpoint path, each queueing at most queue outgoing messages.
func newWirePool(path string, addrs map[string]string, cred *Credentials, conns, queue int, h wire.Handler) *wirePool {
	ctx, stop := context.WithCancel(context.Background())
	opts := wire.Options{QueueSize: queue}
	if cred != nil {
		opts.TLS = cred.TLS
	}
	return &wirePool{path: path, addrs: addrs, cred: cred, conns: max(1, conns), opts: opts, h: h,
		ctx: ctx, stop: stop, pool: map[string][]*wire.Conn{}}
}

// conn returns the connection of slot on chat server alias.
func (p *wirePool) conn(ctx context.Context, alias string, slot int) (*wire.Conn, error) {
	addr, ok := p.addrs[alias]
	if !ok {
		return nil, fmt.Errorf("bench: chat server %q is not among the known chat servers", alias)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pool := p.pool[alias]
	if pool == nil {
		pool = make([]*wire.Conn, p.conns)
		p.pool[alias] = pool
	}
	i := slot % len(pool)
	if c := pool[i]; c != nil && c.Err() == nil {
		return c, nil
	}
	scheme := "ws://"
	if p.opts.TLS != nil {
		scheme = "wss://"
	}
	c, err := wire.Dial(ctx, scheme+addr+p.path, p.opts)
	if err != nil {
		return nil, err
	}
	p.wg.Go(func() { _ = c.Serve(p.ctx, p.h) })
	if p.cred != nil {
		if err := auth.Handshake(ctx, c, auth.Credentials{Name: p.cred.Name, Key: p.cred.Key}, alias); err != nil {
			c.Close()
			return nil, fmt.Errorf("bench: chat server %s did not admit the generator: %w", alias, err)
		}
	}
	pool[i] = c
	return c, nil
}

// close closes every connection and waits for their goroutines.
func (p *wirePool) close() {
	p.stop()
	p.wg.Wait()
}

// wireRequest sends one request and waits for its reply, at most
// requestTimeout.
func wireRequest(ctx context.Context, c *wire.Conn, name string, body, reply any) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	_, err := c.Request(ctx, name, body, reply)
	return err
}

// push is the part of EventSessionInfo the generator reads.
type push struct {
	SessionID string  `json:"sessionId"`
	Messages  []event `json:"messages"`
}

// How a Message event's type, and the party types of its sender, read in a
// push.
var (
	messageType = []byte(`"Message"`)
	fromClient  = []byte(`"Client"`)
	fromAgent   = []byte(`"Agent"`)
)

// decodePush reads an EventSessionInfo that may carry a Message event whose
// sender's type reads from (fromClient or fromAgent), and reports false for
// any other message or a body it cannot read. A push that cannot (a party
// joined or left, a notice, the echo of the receiver's own message) is not
// decoded at all: a receiver looks at the other side's messages only, and
// the generator must stay cheaper per message than the chat server it loads.
func decodePush(m wire.Message, from []byte) (push, bool) {
	var p push
	if m.Name != wire.EventSessionInfo || !bytes.Contains(m.Body, messageType) || !bytes.Contains(m.Body, from) {
		return p, false
	}
	// Leniently, unlike Bind: a client ignores fields it does not read.
	return p, json.Unmarshal(m.Body, &p) == nil
}

// partyBody is a request of a party on a session, as both sides of the chat
// server read it: the party (a customer proves itself with its secure key,
// an agent by the connection it joined on) and what RequestMessage,
// RequestSubscribe and RequestReleaseParty add. Empty fields are left out,
// since the chat server refuses fields a request does not have.
type partyBody struct {
	SessionID          string `json:"sessionId"`
	UserID             string `json:"userId"`
	SecureKey          string `json:"secureKey,omitempty"`
	Text               string `json:"text,omitempty"`
	AfterAction        string `json:"afterAction,omitempty"`
	TranscriptPosition int    `json:"transcriptPosition,omitempty"`
}

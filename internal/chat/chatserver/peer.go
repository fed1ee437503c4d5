package chatserver

import (
	"sync"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/wire"
)

// binding ties a party of a session to the connection it is served on: an
// agent-side party that joined on it, or a client party it subscribed for.
type binding struct {
	sessionID string
	partyID   string
	agent     bool
}

// peer is one wire connection and the parties bound to it.
type peer struct {
	conn *wire.Conn
	// id is who the connection proved to be; set once, when it is
	// admitted, before any of its requests is served.
	id auth.Identity

	mu    sync.Mutex // guards bound
	bound map[binding]struct{}
}

func newPeer(c *wire.Conn) *peer {
	return &peer{conn: c, bound: make(map[binding]struct{})}
}

func (p *peer) bind(b binding) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bound[b] = struct{}{}
}

func (p *peer) unbind(b binding) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.bound, b)
}

func (p *peer) has(b binding) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.bound[b]
	return ok
}

func (p *peer) bindings() []binding {
	p.mu.Lock()
	defer p.mu.Unlock()
	bs := make([]binding, 0, len(p.bound))
	for b := range p.bound {
		bs = append(bs, b)
	}
	return bs
}

package ixnproxy

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/wire"
)

// Node is one node of the cluster as the proxy sees it.
type Node struct {
	// Name names the node in positions of the reporting stream and in logs:
	// its database's name, stable across restarts.
	Name string
	// Servers are its interaction servers: one, or a primary/backup pair.
	Servers []service.Endpoint
	// MediaTypes and Tenants are what it takes ([cluster-settings]); nil:
	// everything.
	MediaTypes []string
	Tenants    []string
}

// takes reports whether the node takes submissions of media for tenant.
func (n Node) takes(media, tenant string) bool {
	return (n.MediaTypes == nil || slices.Contains(n.MediaTypes, media)) &&
		(n.Tenants == nil || slices.Contains(n.Tenants, tenant))
}

// node watches which of a node's servers is its primary: the proxy keeps a
// connection of its own to each, registered under the proxy's name, and
// only the primary accepts the registration (the backup answers 106). The
// legs of the clients' connections dial the primary it found.
type node struct {
	cfg Node
	p   *Proxy

	mu      sync.Mutex
	primary *service.Endpoint // nil while no server of the node is registered
	conn    *wire.Conn        // the watching connection to the primary
	changed chan struct{}     // closed and replaced at every change of primary
}

func newNode(p *Proxy, cfg Node) *node {
	return &node{cfg: cfg, p: p, changed: make(chan struct{})}
}

// run watches every server of the node until ctx is done.
func (n *node) run(ctx context.Context, wg *sync.WaitGroup) {
	for _, ep := range n.cfg.Servers {
		opts := wire.ClientOptions{Options: n.p.cfg.Trust.WireOptions(n.p.wireOpts), MaxBackoff: time.Second,
			OnConnect: func(ctx context.Context, c *wire.Conn) error { return n.watch(ctx, wg, ep, c) }}
		cl := wire.NewClient(ep.URL("ws", path), wire.HandlerFunc(func(context.Context, *wire.Conn, wire.Message) {}), opts)
		wg.Go(func() { _ = cl.Run(ctx) })
	}
}

// watch registers on a new connection to ep; when the registration is
// accepted ep is the node's primary until the connection ends.
func (n *node) watch(ctx context.Context, wg *sync.WaitGroup, ep service.Endpoint, c *wire.Conn) error {
	if err := n.p.cfg.Trust.Handshake(ctx, c, ep); err != nil {
		n.p.log.Warn("an interaction server did not admit the proxy", "node", n.cfg.Name, "server", ep.Name, "err", err)
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, n.p.cfg.Options.RequestTimeout)
	defer cancel()
	reg := map[string]string{"clientName": n.p.cfg.Name, "clientType": "reporting"}
	if _, err := c.Request(rctx, wire.RequestRegisterClient, reg, nil); err != nil {
		return fmt.Errorf("ixnproxy: register at %s: %w", ep.Name, err)
	}
	n.set(&ep, c)
	n.p.log.Info("node primary found", "node", n.cfg.Name, "server", ep.Name)
	wg.Go(func() {
		<-c.Done()
		n.lost(c)
	})
	return nil
}

func (n *node) set(ep *service.Endpoint, c *wire.Conn) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.primary, n.conn = ep, c
	close(n.changed)
	n.changed = make(chan struct{})
}

// lost forgets the primary whose watching connection c ended.
func (n *node) lost(c *wire.Conn) {
	n.mu.Lock()
	mine := n.conn == c
	n.mu.Unlock()
	if mine {
		n.p.log.Warn("node primary lost", "node", n.cfg.Name)
		n.set(nil, nil)
	}
}

// state returns the node's primary (ok false while there is none) and a
// channel closed at the next change.
func (n *node) state() (ep service.Endpoint, changed <-chan struct{}, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.primary == nil {
		return service.Endpoint{}, n.changed, false
	}
	return *n.primary, n.changed, true
}

// up reports whether the node has a primary now.
func (n *node) up() bool {
	_, _, ok := n.state()
	return ok
}

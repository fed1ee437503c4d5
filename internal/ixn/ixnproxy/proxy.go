package ixnproxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/wire"
)

// Config is what a Proxy needs.
type Config struct {
	Name    string
	Listen  string
	Nodes   []Node
	Options config.ProxyOptions
	Logger  *slog.Logger
	// Trust admits the clients of the listener, as an interaction server's
	// would, and proves the proxy to the nodes; nil admits everyone (tests
	// in one process only).
	Trust *service.Trust
	// SubmitterNames maps a chat server's name to its ixn-submittedby-name,
	// under which it may also register.
	SubmitterNames map[string]string
}

// Proxy is an interaction proxy. Create it with New, run it with Serve.
type Proxy struct {
	cfg      Config
	log      *slog.Logger
	wireOpts wire.Options
	nodes    []*node
	cache    *cache
	next     atomic.Uint64 // where the next submission's round robin starts
	metrics  *prometheus.Registry
	requests *prometheus.CounterVec

	mu       sync.Mutex
	closing  bool
	sessions map[*session]struct{}
	conns    sync.WaitGroup // session handlers; Add only under mu while !closing
}

// New returns a proxy for cfg.
func New(cfg Config) (*Proxy, error) {
	if cfg.Name == "" || len(cfg.Nodes) == 0 {
		return nil, errors.New("ixnproxy: config needs a name and at least one node")
	}
	p := &Proxy{cfg: cfg, log: cfg.Logger, cache: newCache(cfg.Options.CacheSize), sessions: map[*session]struct{}{}}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.cfg.Options.RequestTimeout <= 0 || p.cfg.Options.PullHoldTimeout <= 0 {
		d := config.DefaultProxyOptions()
		p.cfg.Options.RequestTimeout, p.cfg.Options.PullHoldTimeout = d.RequestTimeout, d.PullHoldTimeout
	}
	p.wireOpts = wire.Options{MaxMessageSize: int64(cfg.Options.MaxMessageSize), PingInterval: cfg.Options.ADDPTimeout,
		QueueSize: 16384, Logger: p.log}
	for _, n := range cfg.Nodes {
		p.nodes = append(p.nodes, newNode(p, n))
	}
	p.registerMetrics()
	cfg.Trust.Instrument(p.metrics, p.log)
	return p, nil
}

func (p *Proxy) registerMetrics() {
	p.metrics = service.NewRegistry()
	p.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_ixnproxy_requests_total",
		Help: "Wire requests received, by message name."}, []string{"name"})
	up := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_ixnproxy_nodes_up",
		Help: "Nodes of the cluster with a primary the proxy reaches."}, func() float64 {
		n := 0
		for _, nd := range p.nodes {
			if nd.up() {
				n++
			}
		}
		return float64(n)
	})
	cached := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_ixnproxy_cached_interactions",
		Help: "Interactions whose node the proxy remembers."}, func() float64 { return float64(p.cache.len()) })
	p.metrics.MustRegister(p.requests, up, cached)
}

// Run listens on the configured address and serves until ctx is done.
func (p *Proxy) Run(ctx context.Context) error {
	ln, err := p.cfg.Trust.Listen(p.cfg.Listen)
	if err != nil {
		return fmt.Errorf("ixnproxy %s: %w", p.cfg.Name, err)
	}
	return p.Serve(ctx, ln)
}

// Serve watches the nodes and serves clients on ln until ctx is done; it
// then closes every connection and returns. It closes ln.
func (p *Proxy) Serve(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	nctx, stopNodes := context.WithCancel(ctx)
	for _, n := range p.nodes {
		n.run(nctx, &wg)
	}
	p.log.Info("interaction proxy listening", "addr", ln.Addr().String(), "nodes", len(p.nodes))
	err := service.ServeHTTP(ctx, ln, p.handler(), 5*time.Second, p.log)
	p.shutdown()
	stopNodes()
	wg.Wait()
	return err
}

func (p *Proxy) handler() http.Handler {
	mux := service.NewMux(p.metrics, p.health, p.cfg.Trust)
	mux.HandleFunc("GET "+path, p.serveWire)
	return mux
}

// MonitoringHandler serves /healthz and /metrics without credentials, for
// admin-listen.
func (p *Proxy) MonitoringHandler() http.Handler { return service.NewMux(p.metrics, p.health, nil) }

// health is fine while the proxy reaches at least one node.
func (p *Proxy) health() error {
	p.mu.Lock()
	closing := p.closing
	p.mu.Unlock()
	if closing {
		return errors.New("shutting down")
	}
	for _, n := range p.nodes {
		if n.up() {
			return nil
		}
	}
	return errors.New("no node of the cluster reachable")
}

// path is where the wire protocol is served, as an interaction server serves it.
const path = "/wire/ixn"

// clientRoles are the roles the proxy's listener admits, as an
// interaction server's does.
var clientRoles = []auth.Role{auth.RoleMediaServer, auth.RoleAgent, auth.RoleRouting, auth.RoleReporting}

func (p *Proxy) serveWire(w http.ResponseWriter, r *http.Request) {
	c, err := wire.Accept(w, r, p.wireOpts)
	if err != nil {
		p.log.Debug("wire upgrade failed", "err", err)
		return
	}
	s := newSession(p, c)
	if !p.add(s) {
		c.Close()
		return
	}
	defer p.conns.Done()
	defer p.drop(s)
	guarded := p.cfg.Trust.Guard(c, r, clientRoles, func(id auth.Identity) wire.Handler {
		s.id = id
		return wire.HandlerFunc(s.serve)
	})
	if err := c.Serve(r.Context(), guarded); err != nil && !errors.Is(err, wire.ErrClosed) {
		p.log.Debug("wire connection ended", "remote", r.RemoteAddr, "err", err)
	}
}

func (p *Proxy) add(s *session) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return false
	}
	p.sessions[s] = struct{}{}
	p.conns.Add(1)
	return true
}

// drop ends a client's session: its legs close, and each node logs its
// agent out as it would for a direct connection that ended.
func (p *Proxy) drop(s *session) {
	s.close()
	p.mu.Lock()
	delete(p.sessions, s)
	p.mu.Unlock()
}

func (p *Proxy) shutdown() {
	p.mu.Lock()
	p.closing = true
	var list []*session
	for s := range p.sessions {
		list = append(list, s)
	}
	p.mu.Unlock()
	for _, s := range list {
		s.conn.Close()
	}
	done := make(chan struct{})
	go func() { p.conns.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.log.Warn("connections still open at shutdown")
	}
}

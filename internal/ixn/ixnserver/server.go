package ixnserver

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
	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/wire"
)

// Path is where the wire protocol is served.
const Path = "/wire/ixn"

// Clock is the server's time: the real clock, or a fake one in tests.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed, and a func
	// that stops it.
	After(d time.Duration) (<-chan time.Time, func())
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) After(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}

// Config is what a Server needs. The store is opened by the caller, which
// also closes it after Run returns.
type Config struct {
	Name    string
	Listen  string
	Options config.InteractionServerOptions
	Store   ixn.Store
	Logger  *slog.Logger
	// Clock is the time source; nil means the real clock.
	Clock Clock
	// Lock, when set, makes the server one of a primary/backup pair: it
	// serves only while it holds the lock (see servePair). Nil serves at
	// once, as a single server does.
	Lock Lock
	// Trust admits the peers of the listener, each as the clients its role
	// allows, and signs the agents' grants; nil admits everyone and signs
	// no grant (tests in one process only).
	Trust *service.Trust
	// ChatServers are the chat servers connected to this server, by name:
	// where it relays ESP requests (esp.go).
	ChatServers map[string]service.Endpoint
	// SubmitterNames maps a chat server's name to its ixn-submittedby-name,
	// the other name it may register under (several chat servers may share
	// one, to all receive the events of each other's interactions).
	SubmitterNames map[string]string
}

// Server is an interaction server. Create it with New, run it with Run or
// Serve.
type Server struct {
	cfg      Config
	log      *slog.Logger
	clock    Clock
	wireOpts wire.Options
	allow    string // allow-multiple-agent-connections
	metrics  *prometheus.Registry
	requests *prometheus.CounterVec
	failures prometheus.Counter
	logins   *loginThrottle
	commits  *committer
	esp      espRelay
	rearm    chan struct{}                           // capacity 1: the engine's next deadline may have moved
	stepDown atomic.Pointer[context.CancelCauseFunc] // ends Serve; set by Serve
	conns    sync.WaitGroup                          // connection handlers; Add only under mu while !closing

	// mu guards the engine and every field below. Engine operations are
	// short and do no I/O; the store is written by the committer.
	mu        sync.Mutex
	engine    *ixn.Engine
	ready     bool // the store is loaded
	backup    bool // waiting for the primary lock
	closing   bool
	peers     set
	clients   index // by client name
	agents    index // by logged-in agent id
	watchers  index // by interaction id (RequestSubscribe)
	workbins  index // by workbinKey (RequestWorkbinNotifications)
	reporters map[*peer]int64
}

// New returns a server for cfg, or an error for a configuration the engine
// refuses.
func New(cfg Config) (*Server, error) {
	if cfg.Name == "" || cfg.Store == nil {
		return nil, errors.New("ixnserver: config needs a name and a store")
	}
	eng, err := ixn.New(engineConfig(cfg.Options))
	if err != nil {
		return nil, fmt.Errorf("ixnserver: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, clock: cfg.Clock, engine: eng, allow: cfg.Options.Settings.AllowMultipleAgentConnections,
		rearm: make(chan struct{}, 1), peers: set{}, clients: index{}, agents: index{}, watchers: index{}, workbins: index{},
		reporters: map[*peer]int64{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = realClock{}
	}
	s.wireOpts = wire.Options{MaxMessageSize: int64(cfg.Options.Settings.MaxMessageSize),
		PingInterval: cfg.Options.Settings.ADDPTimeout, QueueSize: 16384, Logger: s.log}
	s.registerMetrics()
	cfg.Trust.Instrument(s.metrics, s.log)
	s.commits = newCommitter(cfg.Store, s.log, s.storeFailed)
	s.esp.s = s
	return s, nil
}

// engineConfig turns the application's options into the engine's.
func engineConfig(o config.InteractionServerOptions) ixn.Config {
	c := ixn.Config{InviteTimeout: o.Settings.InviteTimeout, RerouteExclude: o.Settings.RerouteExclude,
		AsyncLastAgentAttempts: o.Settings.AsyncLastAgentAttempts, AsyncLastAgentTimeout: o.Settings.AsyncLastAgentTimeout,
		SkillKey: o.Settings.RequiredSkillKey, AgentReconnectTimeout: o.Settings.AgentReconnectTimeout,
		SnapshotSize:                o.Settings.MaxInteractionsPerSnapshot,
		NotReadyOnInvitationTimeout: o.Settings.NotReadyOnInvitationTimeout}
	for _, name := range o.QueueNames() {
		queue := ixn.Queue{Name: name, Routing: ixn.RoutingBuiltin}
		if q := o.Queues[name]; q != nil {
			queue.Routing, queue.Greeting = ixn.Routing(q.Routing), q.Greeting
			queue.WaitingNotice, queue.WaitingInterval = q.WaitingNotice, q.WaitingNoticeInterval
		}
		c.Queues = append(c.Queues, queue)
	}
	for name, v := range o.Views {
		if v.Enabled {
			c.Views = append(c.Views, ixn.View{Name: name, Queue: v.Queue, Condition: v.Condition, Order: v.Order,
				CheckInterval: v.CheckInterval, Action: ixn.ViewAction(v.Action)})
		}
	}
	for id, a := range o.Agents {
		skills, _ := ixn.ParseSkills(a.Skills) // validated with the configuration
		c.Agents = append(c.Agents, ixn.AgentConfig{ID: id, PasswordHash: a.PasswordHash,
			Place: a.Place, Capacity: a.CapacityChat, Skills: skills, Tenant: a.Tenant, Supervisor: a.Supervisor})
	}
	for code, r := range o.Reasons {
		c.NotReadyReasons = append(c.NotReadyReasons, ixn.NotReadyReason{Code: code, Label: r.Label, Tenant: r.Tenant})
	}
	return c
}

func (s *Server) registerMetrics() {
	s.metrics = service.NewRegistry()
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_ixn_requests_total",
		Help: "Wire requests received, by message name."}, []string{"name"})
	s.failures = prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_ixn_store_failures_total",
		Help: "Commits to the interaction store that failed."})
	count := func(interactions bool) func() float64 {
		return func() float64 {
			s.mu.Lock()
			defer s.mu.Unlock()
			n, a := s.engine.Counts()
			if interactions {
				return float64(n)
			}
			return float64(a)
		}
	}
	s.logins = newLoginThrottle(s.metrics)
	s.metrics.MustRegister(s.requests, s.failures,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_ixn_interactions", Help: "Live interactions."}, count(true)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_ixn_agents_logged_in", Help: "Agents logged in."}, count(false)))
}

// Run listens on the configured address and serves until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	ln, err := s.cfg.Trust.Listen(s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("ixnserver %s: %w", s.cfg.Name, err)
	}
	return s.Serve(ctx, ln)
}

// ErrStoreFailed is returned by Serve when a write to the interaction store
// failed: the server's state is then ahead of the store's, so it stops
// serving rather than go on from a state nobody can restore. Started again
// (or replaced by its backup) it serves what the store holds.
var ErrStoreFailed = errors.New("ixnserver: interaction store write failed")

// Serve loads the store, then serves on ln until ctx is done; it then
// closes the connections, writes what is pending and returns. It closes ln.
// With a Lock it first serves as a backup until it holds the lock, and
// returns ErrLockLost if it loses it. It returns ErrStoreFailed after a
// failed write.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, stepDown := context.WithCancelCause(ctx)
	defer stepDown(nil)
	s.stepDown.Store(&stepDown)
	err := s.serve(ctx, ln)
	if cause := context.Cause(ctx); errors.Is(cause, ErrStoreFailed) {
		return cause
	}
	return err
}

// storeFailed counts a failed commit and makes Serve step down.
func (s *Server) storeFailed(err error) {
	s.failures.Inc()
	if stop := s.stepDown.Load(); stop != nil {
		(*stop)(fmt.Errorf("%w: %w", ErrStoreFailed, err))
	}
}

func (s *Server) serve(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	wg.Go(s.commits.run)
	stopESP := s.esp.start(ctx)
	defer func() {
		stopESP()
		s.commits.close()
		wg.Wait()
	}()
	if s.cfg.Lock != nil {
		return s.servePair(ctx, ln, &wg)
	}
	if err := s.load(ctx); err != nil {
		ln.Close()
		return err
	}
	s.log.Info("interaction server listening", "addr", ln.Addr().String())
	tctx, stopTimers := context.WithCancel(ctx)
	wg.Go(func() { s.runTimers(tctx) })
	err := service.ServeHTTP(ctx, ln, s.handler(), 5*time.Second, s.log)
	stopTimers()
	s.shutdown()
	return err
}

// load restores the engine from the store.
func (s *Server) load(ctx context.Context) error {
	ixns, err := s.cfg.Store.Interactions(ctx)
	if err != nil {
		return fmt.Errorf("ixnserver %s: load: %w", s.cfg.Name, err)
	}
	last, err := s.cfg.Store.LastEventID(ctx)
	if err != nil {
		return fmt.Errorf("ixnserver %s: load: %w", s.cfg.Name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dispatch(s.engine.Restore(s.clock.Now(), ixns, last), nil, nil)
	s.ready = true
	s.log.Info("interactions restored", "interactions", len(ixns), "last_event_id", last)
	return nil
}

func (s *Server) handler() http.Handler {
	mux := service.NewMux(s.metrics, s.health, s.cfg.Trust)
	mux.HandleFunc("GET "+Path, s.serveWire)
	return mux
}

// MonitoringHandler serves /healthz and /metrics without credentials: the
// handler of the admin listener (admin-listen), which the administrator
// binds to a monitoring network they trust.
func (s *Server) MonitoringHandler() http.Handler { return service.NewMux(s.metrics, s.health, nil) }

func (s *Server) health() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closing:
		return errors.New("shutting down")
	case s.backup:
		return errBackup
	case !s.ready:
		return errors.New("loading")
	}
	return nil
}

// serveWire serves one connection until it ends, then forgets it.
func (s *Server) serveWire(w http.ResponseWriter, r *http.Request) {
	c, err := wire.Accept(w, r, s.wireOpts)
	if err != nil {
		s.log.Debug("wire upgrade failed", "err", err)
		return
	}
	p := &peer{conn: c, watching: map[string]bool{}, workbins: map[string]bool{}}
	if !s.addPeer(p) {
		c.Close()
		return
	}
	defer s.conns.Done()
	defer s.dropPeer(p)
	guarded := s.cfg.Trust.Guard(c, r, peerRoles, func(id auth.Identity) wire.Handler {
		p.id = id // before any request: the handler reads it under s.mu
		return s.wireHandler(p)
	})
	if err := c.Serve(r.Context(), guarded); err != nil && !errors.Is(err, wire.ErrClosed) {
		s.log.Debug("wire connection ended", "remote", r.RemoteAddr, "err", err)
	}
}

func (s *Server) addPeer(p *peer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.peers[p] = struct{}{}
	s.conns.Add(1)
	return true
}

// dropPeer forgets a connection and its registration (release). At
// shutdown nothing changes, so that the store keeps the state for the next
// start.
func (s *Server) dropPeer(p *peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.peers, p)
	s.release(p, true)
}

// release ends p's registration: its subscriptions end; an agent whose last
// connection it was is logged out, which revokes its invitations; when it
// was its name's last connection, a routing client's pulled interactions go
// back to their queues and the client's locks end. closed says the
// connection closed: an agent's is then reported (EventAgentConnectionClosed).
// s.mu must be held.
func (s *Server) release(p *peer, closed bool) {
	delete(s.reporters, p)
	for id := range p.watching {
		s.watchers.remove(id, p)
	}
	clear(p.watching)
	for key := range p.workbins {
		s.workbins.remove(key, p)
	}
	clear(p.workbins)
	now := s.clock.Now()
	if p.name != "" && s.clients.remove(p.name, p) && !s.closing {
		if p.kind == kindRouting {
			s.dispatch(s.engine.ReleaseClient(now, p.name), nil, nil)
		}
		s.dispatch(s.engine.ReleaseLocks(now, p.name), nil, nil)
		s.engine.ReleaseSnapshots(p.name)
	}
	if p.agent != "" && closed && !s.closing {
		s.dispatch(s.engine.AgentConnectionClosed(now, p.agent), nil, nil)
	}
	if p.agent != "" && s.agents.remove(p.agent, p) && !s.closing {
		if out, err := s.engine.Logout(now, p.agent); err == nil {
			s.dispatch(out, nil, nil)
		}
	}
	p.name, p.kind, p.agent = "", "", ""
}

func (s *Server) shutdown() {
	s.mu.Lock()
	s.closing = true
	peers := make([]*peer, 0, len(s.peers))
	for p := range s.peers {
		peers = append(peers, p)
	}
	s.mu.Unlock()
	for _, p := range peers {
		p.conn.Close()
	}
	done := make(chan struct{})
	go func() { s.conns.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second): // Close cuts a socket after a few seconds
		s.log.Warn("connections still open at shutdown")
	}
}

// runTimers ticks the engine at its next deadline until ctx is done.
func (s *Server) runTimers(ctx context.Context) {
	for {
		s.mu.Lock()
		next, ok := s.engine.NextDeadline()
		s.mu.Unlock()
		var fire <-chan time.Time
		stop := func() {}
		if ok {
			fire, stop = s.clock.After(max(0, next.Sub(s.clock.Now())))
		}
		select {
		case <-ctx.Done():
			stop()
			return
		case <-s.rearm:
			stop()
			continue
		case <-fire:
		}
		s.mu.Lock()
		s.dispatch(s.engine.Tick(s.clock.Now()), nil, nil)
		s.mu.Unlock()
	}
}

package chatserver

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
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// Paths of the chat server's listener.
const (
	// FlexPath is the customer side, used by the web API.
	FlexPath = "/wire/flex"
	// BasicPath is the agent side, used by agent desktops and bots.
	BasicPath = "/wire/basic"
)

// storeTimeout bounds one store call, so that a hung database fails a request
// instead of holding a session forever.
const storeTimeout = 15 * time.Second

// outQueue bounds the messages queued to one connection. A web API's one
// connection carries the pushes of thousands of chats, so the bound is
// generous: only a peer that stopped reading for good is disconnected.
const outQueue = 1 << 16

// linger is how long an ended session stays readable, so that a client's last
// refresh still receives the final events and chatEnded.
const linger = time.Minute

// Config is what a Server needs. Options come from the application's
// sections; the stores are opened by the caller, which also closes them.
type Config struct {
	// Name is the application name, returned as alias in every reply.
	Name        string
	Listen      string
	Options     config.ChatServerOptions
	Transcripts transcript.Store
	Contacts    contact.Store
	// Files keeps the files clients upload; nil turns file transfer off
	// (the file endpoints answer 503).
	Files transcript.FileStore
	// Availability keeps the operator's disabled flag (POST /admin/disable)
	// across restarts: the server reads it at start and writes it before
	// each change. Nil keeps the flag in memory only, and a restart enables
	// the server again.
	Availability chat.AvailabilityStore
	// Disabled is the deployment file's disabled key at start: the server
	// takes no new chats while it or the operator's flag is set (see
	// SetDeploymentDisabled).
	Disabled bool
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Peers are the deployment's chat servers by name, for
	// session-restore-do-purge.
	Peers map[string]service.Endpoint
	// IxnServers are the interaction servers this chat server submits its
	// chats to: one, or the two of a primary/backup pair (the one that
	// accepts the registration is used). Empty means no interaction server.
	IxnServers []service.Endpoint
	// IxnProxies says IxnServers are the interaction proxies of a cluster
	// (in a random order): the link registers at one at a time, as the
	// seed has a proxy cluster's clients do, and moves to another when it
	// fails.
	IxnProxies bool
	// Trust admits the peers of the listener and proves this server to the
	// ones it dials; nil admits everyone (tests in one process only).
	Trust *service.Trust
	// SweepInterval is how often the server looks for orphans (sessions in
	// the store whose owner does not hold them, docs/ha.md "Orphans"): zero
	// means [settings] orphan-sweep-interval, a negative value turns the
	// sweeper off.
	SweepInterval time.Duration
	// Pair is the warm-standby pair the server belongs to; nil for none.
	Pair *Pair
}

// Server is a chat server. Create it with New, run it with Run or Serve.
type Server struct {
	cfg      Config // Options keeps the start-up values; see options
	log      *slog.Logger
	now      func() time.Time
	live     atomic.Pointer[liveOptions] // the options in force (Reconfigure)
	timers   *scheduler
	wireOpts wire.Options
	sessions *registry
	ixn      *ixnLink // nil without an interaction server
	kpi      kpi
	metrics  *prometheus.Registry
	refused  *prometheus.CounterVec // parties' requests refused for a [limits] option, by reason

	// incarnation names this process: a random id taken in New, stored
	// with every session it creates or claims. Another process under the
	// same name (a restart) has another one, so that a restore elsewhere
	// never defers to a process that does not hold the session.
	incarnation string

	pair     standby      // the role in Config.Pair
	pushes   pushRegistry // web API connections, for permanent push subscriptions
	fenced   fencedSet    // sessions lately taken over by another chat server
	peerHTTP *http.Client // to the other chat servers (purge)

	// disabled is set by an operator: the server takes no new chats and
	// keeps serving its current ones (the seed's graceful drain).
	disabled atomic.Bool
	// flexUsers counts the customers present in the sessions here, for
	// limit-for-flex-users (countFlex).
	flexUsers atomic.Int64
	// fileDisabled is the deployment file's disabled key, as last read.
	fileDisabled atomic.Bool
	// availMu serialises changes of disabled with their writes to
	// cfg.Availability, so that the store and the flag agree.
	availMu sync.Mutex

	// work is the context of session operations; it outlives the listener's
	// context by a grace period so that acknowledged work finishes.
	work     context.Context
	stopWork context.CancelFunc
	ops      sync.WaitGroup // session drainers; Add only under mu while !stopped

	mu      sync.Mutex // guards peers, closing and stopped
	peers   map[*peer]struct{}
	closing bool // the listener is stopping: no new connections
	stopped bool // no new session work
}

// New returns a server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Name == "" || cfg.Transcripts == nil || cfg.Contacts == nil {
		return nil, errors.New("chatserver: config needs a name and both stores")
	}
	if cfg.Pair != nil && cfg.Pair.Store == nil {
		return nil, errors.New("chatserver: a pair needs its store")
	}
	live, err := newLiveOptions(cfg.Options)
	if err != nil {
		return nil, fmt.Errorf("chatserver: %w", err)
	}
	s := &Server{
		cfg:    cfg,
		log:    cfg.Logger,
		now:    cfg.Now,
		timers: newScheduler(),
		wireOpts: wire.Options{
			MaxMessageSize: int64(cfg.Options.Settings.MaxMessageSize),
			PingInterval:   cfg.Options.Settings.ADDPTimeout,
			QueueSize:      outQueue,
		},
		sessions: newRegistry(),
		peers:    make(map[*peer]struct{}),
		metrics:  service.NewRegistry(),
	}
	s.incarnation = newIncarnation()
	s.pair.backup.Store(cfg.Pair != nil) // serves nothing until startPair decides
	s.cfg.Transcripts = &watchedStore{Store: cfg.Transcripts, s: s}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.wireOpts.Logger = s.log
	s.peerHTTP = cfg.Trust.HTTPClient(10 * time.Second)
	cfg.Trust.Instrument(s.metrics, s.log)
	s.live.Store(live)
	s.fileDisabled.Store(cfg.Disabled)
	s.ixn = newIxnLink(s)
	s.work, s.stopWork = context.WithCancel(context.Background())
	s.kpi.register(s.metrics)
	s.refused = newRefused(s.metrics)
	return s, nil
}

// Run listens on the configured address and serves until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	ln, err := s.cfg.Trust.Listen(s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("chatserver %s: %w", s.cfg.Name, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then stops: it refuses new
// connections, closes the open ones, lets pending session operations finish
// within a grace period and returns. Sessions stay in the store, so another
// chat server can restore them. It first reads the disabled flag from
// Config.Availability, and returns that error, serving nothing, when the
// flag cannot be read.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := errors.Join(s.loadDisabled(ctx), s.startPair(ctx)); err != nil {
		ln.Close()
		s.shutdown()
		if ctx.Err() != nil {
			return nil // stopped before it started
		}
		return err
	}
	s.log.Info("chat server listening", "addr", ln.Addr().String())
	stopIxn := s.ixn.start(ln.Addr().String())
	timersDone, sweepDone, pairDone, healthDone := make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(timersDone)
		s.runTimers(ctx)
	}()
	go func() {
		defer close(pairDone)
		s.runPair(ctx)
	}()
	go func() {
		defer close(sweepDone)
		s.runSweeper(ctx)
	}()
	go func() {
		defer close(healthDone)
		s.runHealth(ctx)
	}()
	err := service.ServeHTTP(ctx, ln, s.handler(), 5*time.Second, s.log)
	<-timersDone
	<-sweepDone
	<-pairDone
	<-healthDone
	s.shutdown()
	stopIxn() // after the sessions' last operations, which may still send
	return err
}

// handler routes the listener's requests; each is served only to the peers
// the deployment admits in its roles (docs/security.md).
func (s *Server) handler() http.Handler {
	t := s.cfg.Trust
	mux := service.NewMux(s.metrics, s.health, t)
	mux.Handle("GET /kpi", t.HTTP(http.HandlerFunc(s.serveKPI), auth.RoleAdmin))
	mux.Handle("GET /status", t.HTTP(http.HandlerFunc(s.serveStatus), auth.RoleWebAPI, auth.RoleChatPeer, auth.RoleAdmin))
	mux.Handle("POST /admin/disable", t.HTTP(adminOnly(func(w http.ResponseWriter, r *http.Request) { s.setDisabled(w, r, true) }), auth.RoleAdmin))
	mux.Handle("POST /admin/enable", t.HTTP(adminOnly(func(w http.ResponseWriter, r *http.Request) { s.setDisabled(w, r, false) }), auth.RoleAdmin))
	mux.Handle("POST /admin/switchover", t.HTTP(adminOnly(s.serveSwitchover), auth.RoleAdmin))
	mux.Handle("POST /admin/purge/{id}", t.HTTP(adminOnly(s.servePurge), auth.RoleChatPeer, auth.RoleAdmin))
	mux.Handle("GET /sessions/held", t.HTTP(http.HandlerFunc(s.serveHeld), auth.RoleChatPeer, auth.RoleAdmin))
	mux.Handle("GET /sessions/{id}/location", t.HTTP(http.HandlerFunc(s.serveLocation), auth.RoleWebAPI, auth.RoleChatPeer, auth.RoleAdmin))
	files := http.NewServeMux()
	s.registerFiles(files)
	mux.Handle("/chat/", t.HTTP(files, auth.RoleWebAPI))
	mux.HandleFunc("GET "+FlexPath, func(w http.ResponseWriter, r *http.Request) { s.serveWire(w, r, flexRoles, s.serveFlex) })
	mux.HandleFunc("GET "+BasicPath, func(w http.ResponseWriter, r *http.Request) { s.serveWire(w, r, basicRoles, s.serveBasic) })
	mux.HandleFunc("GET "+ESPPath, func(w http.ResponseWriter, r *http.Request) { s.serveWire(w, r, espRoles, s.serveESP) })
	return mux
}

// MonitoringHandler serves /healthz, /metrics, /kpi and /status without
// credentials: the handler of the admin listener (admin-listen), which the
// administrator binds to a monitoring network they trust.
func (s *Server) MonitoringHandler() http.Handler {
	mux := service.NewMux(s.metrics, s.health, nil)
	mux.HandleFunc("GET /kpi", s.serveKPI)
	mux.HandleFunc("GET /status", s.serveStatus)
	return mux
}

// The roles each wire path admits: the customer side is the web APIs'; the
// agent side takes the desktop bridges of the web APIs (agents with grants)
// and the configured bots.
var (
	flexRoles  = []auth.Role{auth.RoleWebAPI}
	basicRoles = []auth.Role{auth.RoleAgent, auth.RoleBot}
)

func (s *Server) health() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return errors.New("shutting down")
	}
	return nil
}

func (s *Server) serveKPI(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.kpi.snapshot())
}

// Status is what GET /status answers: whether the server takes new chats,
// for the web API's chat server selection.
type Status struct {
	Name string `json:"name"`
	// Incarnation names the server's process (Session.Incarnation in the
	// store): a restore defers only to an owner whose current process it is.
	Incarnation string `json:"incarnation"`
	// Stopping is set once the server shuts down: it serves no session.
	Stopping bool `json:"stopping,omitempty"`
	// Role is RolePrimary or RoleBackup for a member of a warm-standby
	// pair, empty otherwise; Pair names the pair and Partner the other
	// member. A backup is never Accepting.
	Role      string `json:"role,omitempty"`
	Pair      string `json:"pair,omitempty"`
	Partner   string `json:"partner,omitempty"`
	Accepting bool   `json:"accepting"`
	Disabled  bool   `json:"disabled"`
	// DisabledBy says who disabled the server: "deployment" (the file's
	// disabled key), "admin" (POST /admin/disable), or both.
	DisabledBy       []string `json:"disabled_by,omitempty"`
	SessionsCurrent  int64    `json:"sessions_current"`
	LimitForSessions int      `json:"limit_for_sessions"`
	// FlexUsers counts the customers present here; at LimitForFlexUsers
	// (0: no limit) the server takes no new chats.
	FlexUsers         int64 `json:"flex_users"`
	LimitForFlexUsers int   `json:"limit_for_flex_users"`
	// WireVersion is the protocol version this server speaks (wire.Version),
	// for an administrator following a rolling upgrade.
	WireVersion int `json:"wire_version"`
}

// Status returns the server's current status.
func (s *Server) Status() Status {
	st := Status{
		Name:              s.cfg.Name,
		Incarnation:       s.incarnation,
		Stopping:          s.health() != nil,
		DisabledBy:        s.disabledBy(),
		SessionsCurrent:   s.kpi.current.Load(),
		LimitForSessions:  s.options().Settings.LimitForSessions,
		FlexUsers:         s.flexUsers.Load(),
		LimitForFlexUsers: s.options().Settings.LimitForFlexUsers,
		WireVersion:       wire.Version,
		Role:              s.role(),
	}
	if p := s.cfg.Pair; p != nil {
		st.Pair, st.Partner = p.Name, p.Partner.Name
	}
	st.Disabled = len(st.DisabledBy) > 0
	full := st.LimitForSessions > 0 && st.SessionsCurrent >= int64(st.LimitForSessions)
	flexFull := st.LimitForFlexUsers > 0 && st.FlexUsers >= int64(st.LimitForFlexUsers)
	st.Accepting = !st.Disabled && !full && !flexFull && s.health() == nil && !s.isBackup()
	return st
}

func (s *Server) serveStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Status())
}

// KPI returns the current counters, as served at GET /kpi.
func (s *Server) KPI() map[string]int64 { return s.kpi.snapshot() }

// serveWire upgrades a connection and serves it until it ends, then lets the
// side clean up what the connection held. Nothing of the side runs before
// the peer is admitted in one of roles: only then does h build its handler.
func (s *Server) serveWire(w http.ResponseWriter, r *http.Request, roles []auth.Role, h func(*peer) wire.HandlerFunc) {
	c, err := wire.Accept(w, r, s.wireOpts)
	if err != nil {
		s.log.Debug("wire upgrade failed", "err", err)
		return
	}
	p := newPeer(c)
	if !s.addPeer(p) {
		c.Close()
		return
	}
	defer s.dropPeer(p)
	guarded := s.cfg.Trust.Guard(c, r, roles, func(id auth.Identity) wire.Handler {
		p.id = id
		return h(p)
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
	return true
}

// dropPeer forgets a connection: its subscriptions end and the agent-side
// parties that joined on it are removed at once, as a dropped agent
// connection means the agent is gone. At shutdown parties stay, so that
// they continue where the session is restored.
func (s *Server) dropPeer(p *peer) {
	s.mu.Lock()
	delete(s.peers, p)
	closing := s.closing
	s.mu.Unlock()
	if closing {
		return
	}
	for _, b := range p.bindings() {
		if e := s.sessions.get(b.sessionID); e != nil {
			s.exec(e, func(ctx context.Context) { s.unbind(ctx, e, p, b) })
		}
	}
}

func (s *Server) shutdown() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.closePeers()
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.ops.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.log.Warn("session operations still running at shutdown; cancelling them")
	}
	s.stopWork()
	<-done
}

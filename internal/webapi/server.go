package webapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/web"
)

// shutdownGrace bounds how long in-flight requests may finish at shutdown.
const shutdownGrace = 5 * time.Second

// ErrServing is returned by a second call to Serve or Run.
var ErrServing = errors.New("webapi: already serving")

// Config is what a Server needs.
type Config struct {
	// Name is the application name, for logs.
	Name string
	// Listen is the host:port Run listens on.
	Listen string
	// ChatServers are the chat servers the web API connects to, by name
	// (the alias).
	ChatServers map[string]service.Endpoint
	// IxnServers are the interaction servers agent desktops log in to
	// through the bridge at /desktop/ws: one, or the two of a primary/backup
	// pair (the one that registers the agent is used). Empty means agents
	// cannot log in.
	IxnServers []service.Endpoint
	// StatServers are the stat servers it is a client of, the primary of
	// a pair first: /wallboard/ leads to the first one's wallboard.
	StatServers []service.Endpoint
	// Trust proves the web API to the servers it dials and guards its
	// /metrics; nil dials in plain text without proof (tests in one
	// process only).
	Trust *service.Trust
	// Options are the application's [endpoints] and [settings].
	Options config.WebAPIOptions
	// Logger receives the role's logs; nil discards them.
	Logger *slog.Logger
}

// Server is a web API. Create it with New, run it with Run or Serve.
type Server struct {
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	pool    *pool
	targets *targets
	pusher  *pusher
	comet   *cometd
	desk    *desktops
	metrics *metrics
	// registry holds every metric, for /metrics on both listeners.
	registry *prometheus.Registry
	browser  atomic.Pointer[browser] // nil until the public URL is known
	uploads  atomic.Int64            // uploads streaming to a chat server
	chatRate chatRate                // new-chats-per-address
	serving  atomic.Bool
	stopped  atomic.Bool // the listener is shutting down: /healthz fails
}

// New returns a server for cfg; it connects to nothing before Serve.
func New(cfg Config) (*Server, error) {
	if cfg.Name == "" {
		return nil, errors.New("webapi: config needs a name")
	}
	if err := cfg.Options.Validate(); err != nil {
		return nil, fmt.Errorf("webapi: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := service.NewRegistry()
	s := &Server{cfg: cfg, log: log, targets: newTargets(), metrics: newMetrics(reg), registry: reg,
		chatRate: chatRate{perMinute: cfg.Options.Limits.NewChatsPerAddress}}
	if err := s.setPublicURL(cfg.Options.Settings.PublicURL, cfg.Listen); err != nil {
		return nil, err
	}
	s.pusher = newPusher(cfg.Options.Push, cfg.Options.Settings.RequestTimeout, log)
	s.targets.adopt = s.adoptPush
	s.pool = newPool(cfg.ChatServers, cfg.Trust, cfg.Options.Settings, log, wireHandler(s.targets))
	s.mux = service.NewMux(reg, s.health, cfg.Trust)
	s.routes()
	s.comet = newCometd(s)
	s.handle(cometPath, s.comet.bx)
	s.handle(cometPath+"/", s.comet.bx) // clients that append /handshake, /connect
	s.handle("/widget/", s.pages(web.Widget("/widget/"), func(b *browser) string { return b.widget }, ""))
	s.desk = newDesktops(s)
	s.handle(desktopPath, s.desk)
	s.handle("/desktop/", s.pages(web.Desktop("/desktop/"), func(b *browser) string { return b.desktop }, "DENY"))
	s.handle("GET /wallboard/", s.wallboard())
	return s, nil
}

// setPublicURL sets the origin policy from public-url, or when that is
// empty from the listen address (http://listen), unless its port is 0 or
// missing: Serve then uses the listener's address.
func (s *Server) setPublicURL(publicURL, listen string) error {
	if publicURL == "" {
		if _, port, err := net.SplitHostPort(listen); err != nil || port == "0" {
			return nil
		}
		publicURL = config.DefaultPublicURL(listen, false)
	}
	b, err := newBrowser(publicURL, s.cfg.Options.Settings)
	if err != nil {
		return fmt.Errorf("webapi: public-url %q: %w", publicURL, err)
	}
	s.browser.Store(b)
	return nil
}

// Handler returns the server's HTTP handler: the REST API, CometD, the
// widget, the agent desktop and its bridge, /healthz and /metrics.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// handle adds a route to the listener, for the transports that share it
// (CometD).
func (s *Server) handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// MonitoringHandler serves /healthz and /metrics without credentials: the
// handler of the admin listener (admin-listen), which the administrator
// binds to a monitoring network they trust.
func (s *Server) MonitoringHandler() http.Handler { return service.NewMux(s.registry, s.health, nil) }

func (s *Server) health() error {
	if s.stopped.Load() {
		return errors.New("shutting down")
	}
	if !s.pool.settled(time.Now()) {
		return errors.New("connecting to its chat servers")
	}
	return nil
}

// Run listens on the configured address and serves until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	ln, err := s.cfg.Trust.Listen(s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("webapi %s: %w", s.cfg.Name, err)
	}
	return s.Serve(ctx, ln)
}

// Serve connects to the chat servers and serves on ln until ctx is done,
// then stops: the listener first, letting requests in flight finish, then
// the chat server connections. It closes ln and may be called once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if !s.serving.CompareAndSwap(false, true) {
		ln.Close()
		return ErrServing
	}
	if s.browser.Load() == nil {
		if err := s.setPublicURL("", ln.Addr().String()); err != nil {
			ln.Close()
			return err
		}
	}
	s.log.Info("web api listening", "addr", ln.Addr().String(),
		"chat_servers", slices.Sorted(maps.Keys(s.cfg.ChatServers)),
		"allowed_origins", s.browser.Load().origins())
	bg, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	s.pool.start(bg, &wg)
	wg.Go(func() { s.sweep(bg) })
	wg.Go(func() { s.pusher.run(bg) })
	// CometD stops with ctx, not bg: its held connects must be answered
	// for the HTTP shutdown to finish.
	s.comet.start(ctx, &wg)
	s.desk.start(ctx, &wg) // agent desktops' sessions, as CometD's, end with ctx
	stopHealth := context.AfterFunc(ctx, func() { s.stopped.Store(true) })
	defer stopHealth()
	err := service.ServeHTTPLimited(ctx, ln, s.Handler(), shutdownGrace, s.log, s.httpLimits())
	stop()
	wg.Wait()
	s.pool.stop()
	return err
}

// metrics are the web API's own Prometheus series.
type metrics struct {
	requests *prometheus.CounterVec // by operation and statusCode
	refresh  *prometheus.CounterVec // by source: cache or chat-server
	refused  *prometheus.CounterVec // by reason (limits.go)
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_webapi_requests_total", Help: "Chat API v2 requests by operation and statusCode.",
		}, []string{"operation", "status_code"}),
		refresh: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_webapi_refresh_total", Help: "Refreshes by where they were answered: cache or chat-server.",
		}, []string{"source"}),
	}
	reg.MustRegister(m.requests, m.refresh)
	m.refused = newRefused(reg)
	return m
}

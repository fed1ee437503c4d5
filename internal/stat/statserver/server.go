package statserver

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
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/stat"
	"github.com/parley-chat/parley/internal/wire"
)

// Paths served on the stat server's listener.
const (
	Path   = "/wire/stat"    // clients
	HAPath = "/wire/stat-ha" // the other server of the pair
)

// Config is what a Server needs.
type Config struct {
	Name    string
	Options config.StatServerOptions
	// Stat is the engine's configuration: the objects (the connected
	// interaction servers' agents and queues) and the definitions.
	Stat stat.Config
	// Source is the reporting stream; nil follows none (tests feed Apply).
	Source Source
	// Peer is the other server of a hot standby pair, nil without one. A
	// Backup dials the primary's HAPath; a primary waits for its backup.
	Peer   *service.Endpoint
	Backup bool
	// HAListener, when set, is the primary's ha port ([ha] listen): the HA
	// link is served there, not on the main listener. Serve closes it.
	HAListener net.Listener
	Logger     *slog.Logger
	// Trust admits clients (role stat-client) and the peer (stat-peer); nil
	// admits everyone (tests in one process only).
	Trust *service.Trust
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Tick is how often Periodical, Reset and time-driven Immediate
	// notifications are checked; zero means 250 ms.
	Tick time.Duration
}

// Server is a stat server.
type Server struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	wireOpts wire.Options
	metrics  *prometheus.Registry
	requests *prometheus.CounterVec
	ha       *pair
	conns    sync.WaitGroup // connection handlers; Add only under mu while !closing

	// mu guards the engine and every field below.
	mu       sync.Mutex
	engine   *stat.Engine
	clients  map[*client]struct{}
	streamUp bool
	closing  bool
	gms      []stat.Definition // opened by POST /genesys/1/statistic, as asked and as opened
	adhocs   int               // ad-hoc stat types and time profiles defined (RequestOpenStatisticEx)
	// overview waits to be reconciled with once overviewAfter is applied.
	overview      *stat.Overview
	overviewAfter int64
}

// client is one client connection and the statistics it opened.
type client struct {
	conn  *wire.Conn
	stats map[int64]*opened // by reference id
}

// opened is a statistic a client opened.
type opened struct {
	ref   int64
	def   stat.Definition
	watch *stat.Watch
	mode  stat.Mode
	reset time.Time // Reset mode: the next reset point
}

// New returns a server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Name == "" {
		return nil, errors.New("statserver: config needs a name")
	}
	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now, engine: stat.New(cfg.Stat), clients: map[*client]struct{}{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.cfg.Tick <= 0 {
		s.cfg.Tick = 250 * time.Millisecond
	}
	set := cfg.Options.Settings
	s.wireOpts = wire.Options{MaxMessageSize: int64(set.MaxMessageSize), PingInterval: set.ADDPTimeout, QueueSize: 4096, Logger: s.log}
	s.registerMetrics()
	s.ha = newPair(s)
	cfg.Trust.Instrument(s.metrics, s.log)
	return s, nil
}

func (s *Server) registerMetrics() {
	s.metrics = service.NewRegistry()
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_stat_requests_total",
		Help: "Wire requests received from stat clients, by message name."}, []string{"name"})
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			s.mu.Lock()
			defer s.mu.Unlock()
			return f()
		})
	}
	s.metrics.MustRegister(s.requests,
		gauge("parley_stat_statistics_open", "Statistics open (shared ones once).", func() float64 { return float64(s.engine.Len()) }),
		gauge("parley_stat_last_event_id", "The last reporting event applied.", func() float64 { return float64(s.engine.LastEventID()) }),
		gauge("parley_stat_stream_up", "1 while the reporting stream is connected.", func() float64 {
			if s.streamUp {
				return 1
			}
			return 0
		}))
}

// Serve serves on ln until ctx is done; it closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	bg, stop := context.WithCancel(ctx)
	defer func() {
		stop()
		wg.Wait()
	}()
	if s.cfg.Source != nil {
		wg.Go(func() { _ = s.cfg.Source.Run(bg, s) })
	}
	s.openBoard()
	if ln := s.cfg.HAListener; ln != nil {
		mux := http.NewServeMux()
		mux.HandleFunc("GET "+HAPath, s.ha.serveWire)
		wg.Go(func() { _ = service.ServeHTTP(bg, ln, mux, 5*time.Second, s.log) })
	}
	wg.Go(func() { s.runTicks(bg) })
	wg.Go(func() { s.ha.run(bg) })
	s.log.Info("stat server listening", "addr", ln.Addr().String(), "backup", s.cfg.Backup)
	err := service.ServeHTTP(ctx, ln, s.Handler(), 5*time.Second, s.log)
	s.shutdown()
	return err
}

var _ Sink = (*Server)(nil)

// Handler serves the stat server's HTTP routes.
func (s *Server) Handler() http.Handler {
	mux := service.NewMux(s.metrics, s.health, s.cfg.Trust)
	mux.HandleFunc("GET "+Path, s.serveWire)
	if s.cfg.HAListener == nil {
		mux.HandleFunc("GET "+HAPath, s.ha.serveWire)
	}
	mux.Handle("POST /genesys/1/statistic", s.cfg.Trust.HTTP(http.HandlerFunc(s.serveGMS), auth.RoleStatClient, auth.RoleAdmin))
	s.wallboard(mux)
	return mux
}

// MonitoringHandler serves /healthz and /metrics without credentials (the
// admin-listen listener).
func (s *Server) MonitoringHandler() http.Handler { return service.NewMux(s.metrics, s.health, nil) }

func (s *Server) health() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return errors.New("shutting down")
	}
	return nil
}

// Position implements Sink: the last reporting event applied.
func (s *Server) Position() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.engine.LastEventID()
}

// Apply implements Sink: it applies one reporting event and notifies the
// Immediate watches whose value changed.
func (s *Server) Apply(r stat.Report) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.engine.Apply(r) {
		s.reconcileDue()
		s.notifyDue(s.now(), false)
	}
}

// Reconcile implements Sink: ov is applied once the events up to after are
// (a replay may still be under way).
func (s *Server) Reconcile(ov stat.Overview, after int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.overview, s.overviewAfter = &ov, after
	s.reconcileDue()
}

// reconcileDue applies the pending overview when its time has come.
// s.mu must be held.
func (s *Server) reconcileDue() {
	if s.overview == nil || s.engine.LastEventID() < s.overviewAfter {
		return
	}
	s.engine.Reconcile(*s.overview, s.now())
	s.overview = nil
	s.notifyDue(s.now(), false)
}

// Stream implements Sink: it records the stream lost or found, telling
// every client with EventStatInvalid or EventStatValid
// (generate-stat-validity-events).
func (s *Server) Stream(up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streamUp == up {
		return
	}
	s.streamUp = up
	s.log.Info("reporting stream", "up", up, "last_event_id", s.engine.LastEventID())
	if !s.cfg.Options.Settings.GenerateStatValidityEvents {
		return
	}
	name := wire.EventStatInvalid
	if up {
		name = wire.EventStatValid
	}
	for c := range s.clients {
		for _, ref := range slices.Sorted(maps.Keys(c.stats)) {
			_ = c.conn.Notify(name, map[string]int64{"referenceId": ref})
		}
	}
}

// runTicks checks time-driven notifications every Tick until ctx is done.
func (s *Server) runTicks(ctx context.Context) {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		s.notifyDue(s.now(), true)
		s.mu.Unlock()
	}
}

// notifyDue sends EventInfo for every watch due at now: after an event
// only Immediate ones can be, at a tick (tick) any. s.mu must be held.
func (s *Server) notifyDue(now time.Time, tick bool) {
	for c := range s.clients {
		for _, o := range c.stats {
			if tick && o.mode == stat.Reset && !o.reset.IsZero() && !now.Before(o.reset) {
				s.sendReset(c, o, now)
				continue
			}
			if !tick && o.mode != stat.Immediate {
				continue
			}
			v, err := s.engine.Value(o.def, now)
			if err == nil && o.watch.Due(v, now) {
				_ = c.conn.Notify(wire.EventInfo, info(o, v, now))
			}
		}
	}
}

// sendReset sends the value just before the reset point, then arms the
// next one. s.mu must be held.
func (s *Server) sendReset(c *client, o *opened, now time.Time) {
	at := o.reset.Add(-time.Millisecond)
	if v, err := s.engine.Value(o.def, at); err == nil {
		_ = c.conn.Notify(wire.EventInfo, info(o, v, at))
	}
	o.reset, _ = s.engine.NextReset(o.def, now)
}

// infoBody is the body of EventInfo.
type infoBody struct {
	ReferenceID   int64   `json:"referenceId"`
	ObjectID      string  `json:"objectId"`
	ObjectType    string  `json:"objectType"`
	StatisticType string  `json:"statisticType"`
	Value         float64 `json:"value"`
	StringValue   string  `json:"stringValue,omitempty"`
	Time          int64   `json:"time"` // epoch ms
}

func info(o *opened, v stat.Value, at time.Time) infoBody {
	return infoBody{ReferenceID: o.ref, ObjectID: o.def.ObjectID, ObjectType: string(o.def.ObjectType),
		StatisticType: o.def.StatType, Value: v.Number, StringValue: v.State, Time: at.UnixMilli()}
}

func (s *Server) shutdown() {
	s.mu.Lock()
	s.closing = true
	conns := make([]*wire.Conn, 0, len(s.clients))
	for c := range s.clients {
		conns = append(conns, c.conn)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	s.ha.close()
	done := make(chan struct{})
	go func() { s.conns.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.log.Warn("connections still open at shutdown")
	}
}

// errorCode maps the engine's errors to wire codes.
func errorCode(err error) *wire.Error {
	text := err.Error()
	switch {
	case errors.Is(err, stat.ErrNoSuchObject):
		return wire.Errorf(wire.CodeNoSuchObject, "%s", text)
	case errors.Is(err, stat.ErrNoSuchStatType):
		return wire.Errorf(wire.CodeNoSuchStatType, "%s", text)
	case errors.Is(err, stat.ErrInvalid):
		return wire.Errorf(wire.CodeInvalidStatistic, "%s", text)
	case errors.Is(err, stat.ErrNoSuchStatistic):
		return wire.Errorf(wire.CodeNoSuchStatistic, "%s", text)
	}
	return wire.AsError(fmt.Errorf("statserver: %w", err))
}

package ixnserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/ixn/ixnserver"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/store/postgres"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/wire"
)

// fakeClock is a Clock that moves only when the test advances it.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) (<-chan time.Time, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch, func() {}
	}
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	return ch, func() {}
}

// Advance moves the clock by d and fires the timers due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

const testOptions = `
      settings: {invite-timeout: 30, reroute-exclude: 60, async-last-agent-attempts: 2}
      queue:default: {routing: builtin}
      queue:ext: {routing: external}
      view:vip: {queue: ext, condition: "Vip = 'yes'", order: "Priority desc"}
      view:check: {queue: default, condition: "GCTI_Chat_AsyncCheckAt < _current_time()", check-interval: 10, action: stop}
`

// agentSection returns an agent:<id> section whose password is the id.
func agentSection(id string, capacity int, skills string) string {
	return fmt.Sprintf("      agent:%s: {password-hash: %q, capacity-chat: %d, skills: %q}\n",
		id, ixn.HashPassword(id, "parley-test-salt-"+id, ixn.MinPasswordIterations), capacity, skills)
}

func parseOptions(t *testing.T, sections string) config.InteractionServerOptions {
	t.Helper()
	d, err := config.Parse("test.yaml", []byte("databases: {main: {driver: sqlite, dsn: x.db}}\napplications:\n"+
		"  ixn-1:\n    type: interaction-server\n    listen: 127.0.0.1:1\n    database: main\n    options:\n"+sections))
	if err != nil {
		t.Fatal(err)
	}
	return *d.Applications["ixn-1"].Ixn
}

func defaultOptions(t *testing.T) config.InteractionServerOptions {
	t.Helper()
	return parseOptions(t, testOptions+agentSection("alice", 2, "billing:5")+agentSection("bob", 1, "")+agentSection("carol", 1, ""))
}

// backend is a database the tests run an interaction server on.
type backend struct {
	name string
	// fresh returns the DSN of a new, empty database for t: a SQLite file,
	// or a PostgreSQL schema of its own (the test is skipped, with the
	// reason, when PostgreSQL is unreachable).
	fresh func(t *testing.T) string
	open  func(ctx context.Context, dsn string) (ixn.Store, io.Closer, error)
	// breakWrites makes every later write of h's store fail, as a lost
	// database would.
	breakWrites func(t *testing.T, h *harness)
}

var (
	onSQLite = backend{name: "sqlite",
		fresh: func(t *testing.T) string { return filepath.Join(t.TempDir(), "parley.db") },
		open: func(ctx context.Context, dsn string) (ixn.Store, io.Closer, error) {
			db, err := sqlite.Open(ctx, dsn)
			if err != nil {
				return nil, nil, err
			}
			return db.Interactions(), db, nil
		},
		breakWrites: func(t *testing.T, h *harness) { h.db.Close() }}
	onPostgres = backend{name: "postgres",
		fresh: func(t *testing.T) string { return storetest.PostgresDSN(t) },
		open: func(ctx context.Context, dsn string) (ixn.Store, io.Closer, error) {
			db, err := postgres.Open(ctx, dsn)
			if err != nil {
				return nil, nil, err
			}
			return db.Interactions(), db, nil
		},
		breakWrites: func(t *testing.T, h *harness) {
			conn, err := pgx.Connect(context.Background(), h.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(context.Background(), "DROP TABLE ixn_events"); err != nil {
				t.Fatal(err)
			}
		}}
)

// eachBackend runs f as a subtest on SQLite and on PostgreSQL.
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range []backend{onSQLite, onPostgres} {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

// start starts a server on a fresh database of b.
func (b backend) start(t *testing.T, opts config.InteractionServerOptions) *harness {
	t.Helper()
	return startAt(t, opts, b, b.fresh(t), newClock())
}

// harness is an interaction server on a loopback port over a database.
type harness struct {
	t     *testing.T
	mu    sync.Mutex
	dials []*client
	addr  string
	clock *fakeClock
	dsn   string
	db    io.Closer
	done  chan error // Serve's result, taken by stop
	stop  func()
}

// start starts a server on a fresh SQLite file.
func start(t *testing.T, opts config.InteractionServerOptions) *harness {
	t.Helper()
	return onSQLite.start(t, opts)
}

// startAt starts a server over the database dsn of b; stop (also run at
// cleanup) stops it and closes the database.
func startAt(t *testing.T, opts config.InteractionServerOptions, b backend, dsn string, clock *fakeClock) *harness {
	t.Helper()
	return startTrusted(t, opts, b, dsn, clock, nil)
}

// startTrusted is startAt with trust admitting the peers (nil: everyone).
func startTrusted(t *testing.T, opts config.InteractionServerOptions, b backend, dsn string, clock *fakeClock, trust *service.Trust) *harness {
	t.Helper()
	return startConfig(t, b, dsn, clock, ixnserver.Config{Options: opts, Trust: trust})
}

// startConfig starts a server of cfg, named ixn-1, over the database dsn
// of b with clock.
func startConfig(t *testing.T, b backend, dsn string, clock *fakeClock, cfg ixnserver.Config) *harness {
	t.Helper()
	st, db, err := b.open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Name, cfg.Store, cfg.Clock = "ixn-1", st, clock
	srv, err := ixnserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, addr: ln.Addr().String(), clock: clock, dsn: dsn, db: db, done: make(chan error, 1)}
	go func() { h.done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-h.done; err != nil {
				t.Errorf("serve: %v", err)
			}
			db.Close()
		})
	}
	t.Cleanup(h.stop)
	return h
}

// client is a wire connection that records the events it receives.
type client struct {
	t    *testing.T
	name string
	conn *wire.Conn
	got  chan struct{} // capacity 1: an event arrived
	mu   sync.Mutex
	evs  []wire.Message
}

func (h *harness) dial(name string) *client {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := wire.Dial(ctx, "ws://"+h.addr+ixnserver.Path, wire.Options{QueueSize: 16384})
	if err != nil {
		h.t.Fatal(err)
	}
	c := &client{t: h.t, name: name, conn: conn, got: make(chan struct{}, 1)}
	h.mu.Lock()
	h.dials = append(h.dials, c)
	h.mu.Unlock()
	served := make(chan struct{})
	go func() {
		defer close(served)
		conn.Serve(context.Background(), wire.HandlerFunc(func(_ context.Context, _ *wire.Conn, m wire.Message) {
			c.mu.Lock()
			c.evs = append(c.evs, m)
			c.mu.Unlock()
			select {
			case c.got <- struct{}{}:
			default:
			}
		}))
	}()
	h.t.Cleanup(func() {
		conn.Close()
		<-served
	})
	return c
}

// dialAs dials as name and proves the connection to be name's with key
// (the deployment key, or an external client's ClientKey).
func (h *harness) dialAs(name string, key auth.Key) *client {
	h.t.Helper()
	c := h.dial(name)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := auth.Handshake(ctx, c.conn, auth.Credentials{Name: name, Key: key}, "ixn-1"); err != nil {
		h.t.Fatalf("handshake as %s: %v", name, err)
	}
	return c
}

// clients returns every client dialled so far.
func (h *harness) clients() []*client {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*client(nil), h.dials...)
}

// register dials and registers a client of kind.
func (h *harness) register(name, kind string) *client {
	h.t.Helper()
	c := h.dial(name)
	c.ok(wire.RequestRegisterClient, map[string]string{"clientName": name, "clientType": kind})
	return c
}

// agent dials, registers and logs in agent id (password: the id).
func (h *harness) agent(id string) *client {
	h.t.Helper()
	c := h.register("desktop-"+id, "agent")
	c.ok(wire.RequestAgentLogin, map[string]any{"agentId": id, "password": id})
	return c
}

// do sends a request and returns its reply.
func (c *client) do(name string, body any) (wire.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.conn.Request(ctx, name, body, nil)
}

// ok sends a request that must succeed and returns the reply body.
func (c *client) ok(name string, body any) map[string]any {
	c.t.Helper()
	m, err := c.do(name, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", c.name, name, err)
	}
	var reply map[string]any
	if len(m.Body) > 0 {
		if err := json.Unmarshal(m.Body, &reply); err != nil {
			c.t.Fatal(err)
		}
	}
	return reply
}

// fails sends a request that must fail with code.
func (c *client) fails(name string, body any, code wire.Code) {
	c.t.Helper()
	_, err := c.do(name, body)
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != code {
		c.t.Fatalf("%s %s: %v, want code %d", c.name, name, err, code)
	}
}

// event is an event body as a test reads it.
type event struct {
	EventID       int64             `json:"eventId"`
	InteractionID string            `json:"interactionId"`
	AgentID       string            `json:"agentId"`
	Queue         string            `json:"queue"`
	Reason        string            `json:"reason"`
	Kind          string            `json:"kind"`
	Operation     string            `json:"operation"`
	Properties    map[string]string `json:"properties"`
	Changed       []string          `json:"changed"`
	MediaType     string            `json:"mediaType"`
	LockedBy      string            `json:"lockedBy"`
	ClientName    string            `json:"clientName"`
}

// events returns the events named name received so far.
func (c *client) events(name string) []event {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []event
	for _, m := range c.evs {
		if m.Name == name {
			var e event
			_ = json.Unmarshal(m.Body, &e)
			out = append(out, e)
		}
	}
	return out
}

// wait waits until c has received an event named name for which match
// (nil: any) holds, and returns it.
func (c *client) wait(name string, match func(event) bool) event {
	c.t.Helper()
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for {
		for _, e := range c.events(name) {
			if match == nil || match(e) {
				return e
			}
		}
		select {
		case <-c.got:
		case <-timeout.C:
			c.t.Fatalf("%s: no %s in time; got %v", c.name, name, c.names())
		}
	}
}

func (c *client) names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n []string
	for _, m := range c.evs {
		n = append(n, m.Name)
	}
	return n
}

func forID(id string) func(event) bool { return func(e event) bool { return e.InteractionID == id } }

// eventually fails the test unless cond holds within 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	settle.Eventually(t, 5*time.Second, what, cond)
}

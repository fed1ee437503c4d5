package ixnserver_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/ixn/ixnserver"
	"github.com/parley-chat/parley/internal/store/postgres"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/wire"
)

// member is one interaction server of a primary/backup pair on PostgreSQL.
type member struct {
	*harness
	done chan error // Serve's result
	kill func() error
}

// startMember starts an interaction server over its own pool on dsn, as one
// of a pair. kill cancels its Serve, closes its pool and returns Serve's
// error; it also runs at cleanup.
func startMember(t *testing.T, dsn string) *member {
	t.Helper()
	return startMemberLock(t, dsn, ixnserver.AdvisoryLock{DSN: dsn, Check: 100 * time.Millisecond, Retry: 100 * time.Millisecond}, false)
}

// startMemberLock is startMember with lock and, if fenced, its store's
// writes fenced to the lock's database session, as parley run wires them.
func startMemberLock(t *testing.T, dsn string, lock ixnserver.AdvisoryLock, fenced bool) *member {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	store := db.Interactions()
	if fenced {
		lock.Acquired = store.FenceTo
	}
	srv, err := ixnserver.New(ixnserver.Config{Name: "ixn", Options: defaultOptions(t), Store: store, Lock: lock})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{harness: &harness{t: t, addr: ln.Addr().String()}, done: make(chan error, 1)}
	go func() { m.done <- srv.Serve(ctx, ln) }()
	var result error
	stopped := false
	m.kill = func() error {
		if !stopped {
			stopped = true
			cancel()
			result = <-m.done
			db.Close()
		}
		return result
	}
	t.Cleanup(func() { m.kill() })
	return m
}

// health returns the status code and text of GET /healthz.
func (m *member) health() (int, string) {
	resp, err := http.Get("http://" + m.addr + "/healthz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func (m *member) waitHealth(code int, text string) {
	m.t.Helper()
	eventually(m.t, "/healthz "+text, func() bool {
		c, body := m.health()
		return c == code && body == text
	})
}

func TestPrimaryBackupTakeOver(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	a := startMember(t, dsn)
	a.waitHealth(http.StatusOK, "ok")
	b := startMember(t, dsn)
	b.waitHealth(http.StatusServiceUnavailable, "backup")
	b.dial("chat-1").fails(wire.RequestRegisterClient, map[string]string{"clientName": "chat-1", "clientType": "media-server"}, wire.CodeUnavailable)

	chat := a.register("chat-1", "media-server")
	ids := []string{"i1", "i2", "i3"}
	for _, id := range ids {
		chat.ok(wire.RequestSubmit, map[string]any{"interactionId": id, "queue": "default", "properties": map[string]string{"Subject": id}})
	}
	if err := a.kill(); err != nil {
		t.Fatalf("primary stopped with %v", err)
	}
	start := time.Now()
	b.waitHealth(http.StatusOK, "ok")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("backup took %s to take over", d)
	}
	chat = b.register("chat-1", "media-server")
	for _, id := range ids {
		got := chat.ok(wire.RequestGetInteractionProperties, map[string]string{"interactionId": id})
		in := got["interaction"].(map[string]any)
		if in["properties"].(map[string]any)["Subject"] != id {
			t.Errorf("%s after take-over: %v", id, in)
		}
	}
}

func TestPrimaryStopsWhenItsLockConnectionDrops(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	a := startMember(t, dsn)
	a.waitHealth(http.StatusOK, "ok")
	b := startMember(t, dsn)
	b.waitHealth(http.StatusServiceUnavailable, "backup")
	a.register("chat-1", "media-server").ok(wire.RequestSubmit, map[string]any{"interactionId": "i1", "queue": "default"})

	terminateLockHolder(t, dsn)
	a.waitStopped(ixnserver.ErrLockLost)
	b.waitHealth(http.StatusOK, "ok")
	b.register("chat-1", "media-server").ok(wire.RequestGetInteractionProperties, map[string]string{"interactionId": "i1"})
}

// waitStopped waits for m's Serve to return an error wrapping want.
func (m *member) waitStopped(want error) {
	m.t.Helper()
	select {
	case err := <-m.done:
		m.done <- err // for kill at cleanup
		if !errors.Is(err, want) {
			m.t.Fatalf("primary stopped with %v, want %v", err, want)
		}
	case <-time.After(10 * time.Second):
		m.t.Fatalf("primary still serving; want it stopped with %v", want)
	}
}

// TestFencedPrimaryWritesNothingOnceItsLockIsGone cuts the primary's lock
// connection while its liveness check is an hour away: the next write is
// refused by the store's fence, the request gets EventError 106 and the
// primary steps down, instead of writing beside a backup that may serve.
func TestFencedPrimaryWritesNothingOnceItsLockIsGone(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	a := startMemberLock(t, dsn, ixnserver.AdvisoryLock{DSN: dsn, Check: time.Hour}, true)
	a.waitHealth(http.StatusOK, "ok")
	chat := a.register("chat-1", "media-server")
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "i1", "queue": "default"})

	terminateLockHolder(t, dsn)
	eventually(t, "the lock freed", func() bool { return !lockHeld(t, dsn) }) // termination is a signal
	chat.fails(wire.RequestSubmit, map[string]any{"interactionId": "i2", "queue": "default"}, wire.CodeUnavailable)
	a.waitStopped(ixnserver.ErrStoreFailed)
	b := startMember(t, dsn)
	b.waitHealth(http.StatusOK, "ok")
	chat = b.register("chat-1", "media-server")
	chat.ok(wire.RequestGetInteractionProperties, map[string]string{"interactionId": "i1"})
	chat.fails(wire.RequestGetInteractionProperties, map[string]string{"interactionId": "i2"}, wire.CodeNoSuchInteraction)
}

// lockSessions counts the database sessions holding the pair's lock.
const lockSessions = `FROM pg_locks l
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
		AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended('parley/interaction-server/' || current_schema(), 0)`

// lockHeld reports whether a database session holds the pair's lock.
func lockHeld(t *testing.T, dsn string) bool { return countLockSessions(t, dsn, "*") > 0 }

// terminateLockHolder ends the database session holding the pair's lock,
// as a network cut between the primary and the database would.
func terminateLockHolder(t *testing.T, dsn string) {
	t.Helper()
	if n := countLockSessions(t, dsn, "pg_terminate_backend(l.pid)"); n != 1 {
		t.Fatalf("terminate the lock holder: %d sessions", n)
	}
}

// countLockSessions returns count(expr) over the sessions holding the
// pair's lock (l in pg_locks).
func countLockSessions(t *testing.T, dsn, expr string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(`+expr+`) `+lockSessions).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

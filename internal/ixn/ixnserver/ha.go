package ixnserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/service"
)

// ErrLockLost is returned by Serve when a primary lost its lock (its lock
// connection to the database dropped). It stops serving at once, because
// the backup may already have taken over; started again, it is the new
// backup.
var ErrLockLost = errors.New("ixnserver: primary lock lost")

// errBackup is what /healthz answers while the server waits for the lock.
var errBackup = errors.New("backup")

// Lock decides which interaction server of a primary/backup pair serves:
// the one holding it. Implementations are safe for concurrent use.
type Lock interface {
	// Acquire blocks until the lock is held, or ctx is done (it then
	// returns ctx's error). lost is closed if the lock is lost while held;
	// release gives it back, may be called more than once and must be
	// called once the lock is held.
	Acquire(ctx context.Context) (lost <-chan struct{}, release func(), err error)
}

// servePair is Serve for one server of a primary/backup pair. It listens at
// once as the backup: /healthz answers 503 "backup" and every wire request
// EventError 106, so clients keep trying their other address. Once it holds
// the lock it loads the store and serves as the primary until ctx is done
// or the lock is lost. It releases the lock only after the last write.
func (s *Server) servePair(ctx context.Context, ln net.Listener, wg *sync.WaitGroup) error {
	s.setBackup(true)
	s.log.Info("interaction server listening as backup; waiting for the primary lock", "addr", ln.Addr().String())
	hctx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	wg.Go(func() { served <- service.ServeHTTP(hctx, ln, s.handler(), 5*time.Second, s.log) })
	lost, release, err := s.cfg.Lock.Acquire(hctx)
	if err != nil {
		stop()
		return s.stopPair(ctx, wg, <-served, func() {})
	}
	s.setBackup(false)
	if err := s.load(hctx); err != nil {
		stop()
		<-served
		return s.stopPair(ctx, wg, err, release)
	}
	s.log.Info("primary lock acquired; serving as the primary")
	wg.Go(func() { s.runTimers(hctx) })
	return s.stopPair(ctx, wg, s.servePrimary(hctx, stop, served, lost), release)
}

// servePrimary waits until serving ends, ctx is done or the lock is lost,
// then stops the listener and returns why it stopped.
func (s *Server) servePrimary(ctx context.Context, stop func(), served <-chan error, lost <-chan struct{}) error {
	defer stop() // ends the timers too
	var why error
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	case <-lost:
		s.log.Error("primary lock lost; stopping so that the backup takes over")
		why = ErrLockLost
	}
	stop()
	return errors.Join(why, <-served)
}

// stopPair closes the connections, writes what is pending, then releases
// the lock. A stop asked for by ctx is not an error.
func (s *Server) stopPair(ctx context.Context, wg *sync.WaitGroup, err error, release func()) error {
	s.shutdown()
	s.commits.close()
	wg.Wait()
	release()
	if ctx.Err() != nil && !errors.Is(err, ErrLockLost) {
		return nil
	}
	return err
}

func (s *Server) setBackup(backup bool) {
	s.mu.Lock()
	s.backup = backup
	s.mu.Unlock()
}

// AdvisoryLock is a Lock on PostgreSQL: a session-level advisory lock held
// on a connection of its own, which PostgreSQL frees when that connection
// ends. A dead primary's connection closes with its process (or, for a lost
// host, when the database server's TCP keep-alive gives up on it), and the
// backup, blocked in pg_advisory_lock, gets the lock at that moment. The key
// is derived from the current schema, so that deployments sharing a
// database in separate schemas do not share a lock.
type AdvisoryLock struct {
	// DSN is the pgx connection string, the interaction store's.
	DSN string
	// Check is how often the holder checks that its connection lives; zero
	// means one second.
	Check time.Duration
	// Retry is the pause before trying again when the database cannot be
	// reached; zero means one second.
	Retry time.Duration
	// Logger receives connection failures; nil discards them.
	Logger *slog.Logger
	// Acquired, if set, is called with the database session (backend pid)
	// that holds the lock each time it is acquired, before Acquire returns:
	// the interaction store fences its writes to it (postgres.IxnStore.FenceTo).
	Acquired func(pid uint32)
}

// lockSQL takes the pair's lock, waiting for it as long as needed.
const lockSQL = `SELECT pg_advisory_lock(hashtextextended('parley/interaction-server/' || coalesce(current_schema(), ''), 0))`

// Acquire implements Lock.
func (l AdvisoryLock) Acquire(ctx context.Context) (<-chan struct{}, func(), error) {
	log := l.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for {
		conn, err := l.lock(ctx)
		if err == nil {
			if l.Acquired != nil {
				l.Acquired(conn.PgConn().PID())
			}
			lost, release := l.hold(conn)
			return lost, release, nil
		}
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("ixnserver: advisory lock: %w", ctx.Err())
		}
		log.Warn("primary lock not available; retrying", "err", err)
		if !sleep(ctx, or(l.Retry, time.Second)) {
			return nil, nil, fmt.Errorf("ixnserver: advisory lock: %w", ctx.Err())
		}
	}
}

// lock connects and blocks in pg_advisory_lock until it holds the lock.
func (l AdvisoryLock) lock(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, l.DSN)
	if err != nil {
		return nil, fmt.Errorf("ixnserver: advisory lock: connect: %w", err)
	}
	if _, err := conn.Exec(ctx, lockSQL); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("ixnserver: advisory lock: %w", err)
	}
	return conn, nil
}

// hold watches the connection that holds the lock until release.
func (l AdvisoryLock) hold(conn *pgx.Conn) (<-chan struct{}, func()) {
	lost := make(chan struct{})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.watch(ctx, conn, lost)
	}()
	var once sync.Once
	return lost, func() {
		once.Do(func() {
			stop()
			<-done
			conn.Close(context.Background()) // ends the session, which frees the lock
		})
	}
}

// watch pings conn every Check and closes lost when a ping fails: the
// database may have freed the lock with the connection.
func (l AdvisoryLock) watch(ctx context.Context, conn *pgx.Conn, lost chan struct{}) {
	every := or(l.Check, time.Second)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		pctx, cancel := context.WithTimeout(ctx, every)
		err := conn.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			close(lost)
			return
		}
	}
}

func or(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// sleep waits for d and reports false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

var _ Lock = AdvisoryLock{}

package cli

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// restartPolicy says whether and when up starts a child again after it
// died, as a Genesys Local Control Agent restarts a failed application.
type restartPolicy struct {
	on bool
	// first is the delay before the first restart; each failure in a row
	// doubles it, up to max.
	first, max time.Duration
	// stable is how long a child must have run for its death to start a
	// new series of failures (at delay first).
	stable time.Duration
}

// defaultRestart is up's policy without --no-restart.
var defaultRestart = restartPolicy{on: true, first: time.Second, max: 30 * time.Second, stable: time.Minute}

// delay returns the wait before restart number n (1 for the first) of a
// series of failures in a row.
func (p restartPolicy) delay(n int) time.Duration {
	d := p.first
	for i := 1; i < n && d < p.max; i++ {
		d *= 2
	}
	return min(d, p.max)
}

// keep waits for sv's child to exit and, unless up stops or runs with --no-restart,
// starts a new one after one failed: a child that exited on its own with
// status 0 was stopped on purpose (kill -TERM of its pid) and stays
// stopped. Between a death and the restart, connections to the
// application's addresses are refused (see refuse).
func (s *supervisor) keep(ctx context.Context, sv *supervised) {
	defer s.keepers.Done()
	inARow := 0
	for c := sv.cur; ; {
		<-c.done
		if !c.unexpected || c.err == nil {
			return
		}
		sv.failures++
		if !s.restart.on {
			return
		}
		if time.Since(c.started) >= s.restart.stable {
			inARow = 0
		}
		inARow++
		if c = s.restartAfter(ctx, sv, inARow); c == nil {
			return
		}
		s.awaitReady(ctx, c)
	}
}

// restartAfter waits the delay of failure n in a row of sv, refusing
// connections meanwhile, then starts its next child. It returns nil when up
// stops first, or when the child cannot be started.
func (s *supervisor) restartAfter(ctx context.Context, sv *supervised, n int) *child {
	name, d := sv.app.Name, s.restart.delay(n)
	if n > 1 && d == s.restart.max && s.restart.delay(n-1) < d {
		s.con.say("%s keeps failing (%d times in a row): restarting it every %s", name, n, d)
	}
	s.con.say("%s restarts in %s (restart %d in a row)", name, d, n)
	stopRefusing := refuse(s.listeners[name])
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-s.quit:
	case <-ctx.Done():
	case <-timer.C:
	}
	stopRefusing()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping || ctx.Err() != nil {
		return nil
	}
	c, err := s.start(sv.app)
	if err != nil {
		s.con.say("%v; not restarted", err)
		sv.cur = nil
		return nil
	}
	sv.cur = c
	return c
}

// refuse accepts and resets every connection to l's addresses until the
// returned function is called, which returns once it no longer accepts:
// while an application is down, its peers (a web API, a probe) fail at
// once and go to another server, rather than wait in the listen backlog
// for a child that starts only after the back-off. Connections made after
// the function returned queue for the restarted child, which is given
// the same listeners. A listener without deadlines is left alone.
func refuse(l appListeners) (stop func()) {
	type deadliner interface{ SetDeadline(time.Time) error }
	var wg sync.WaitGroup
	var lns []deadliner
	for _, ln := range []net.Listener{l.main, l.admin} {
		d, ok := ln.(deadliner)
		if !ok || setNonblock(ln) != nil || d.SetDeadline(time.Time{}) != nil {
			continue
		}
		lns = append(lns, d)
		wg.Go(func() { resetAll(ln) })
	}
	return func() {
		for _, d := range lns {
			_ = d.SetDeadline(time.Now()) // wakes Accept
		}
		wg.Wait()
		for _, d := range lns {
			_ = d.SetDeadline(time.Time{})
		}
	}
}

// resetAll closes every connection ln accepts with a reset, until Accept
// fails for another reason than a temporary one.
func resetAll(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && !ne.Timeout() && ne.Temporary() { //nolint:staticcheck // EMFILE and the like
				continue
			}
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST, not FIN: the peer fails at once
		}
		conn.Close()
	}
}

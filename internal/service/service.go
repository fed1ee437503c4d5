package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrStopTimeout is returned by Group.Run when some services did not return
// within the group's grace period after it was stopped.
var ErrStopTimeout = errors.New("service: services did not stop within the grace period")

// Service is a long-running part of an application: a listener, a timer
// loop, a store's commit loop.
//
// Run blocks until ctx is done or the service fails. It returns nil after a
// graceful stop caused by ctx, and an error when it fails or could not stop
// cleanly. Run is called at most once.
type Service interface {
	Run(ctx context.Context) error
}

// Func adapts an ordinary function to a Service.
type Func func(ctx context.Context) error

// Run calls f(ctx).
func (f Func) Run(ctx context.Context) error { return f(ctx) }

// Group runs services together: the first one to return, with or without an
// error, cancels the context of all the others, because an application with a
// missing part is not one worth keeping up. Add every service before Run; a
// Group is not reusable.
type Group struct {
	// Grace bounds how long Run waits for the services to return once they
	// have been cancelled; zero means no bound.
	Grace time.Duration

	names    []string
	services []Service
}

// Add adds s under name, the name that prefixes its error.
func (g *Group) Add(name string, s Service) {
	g.names = append(g.names, name)
	g.services = append(g.services, s)
}

// result is what one service returned.
type result struct {
	index int
	err   error
}

// Run runs every service in its own goroutine and blocks until all have
// returned, or until Grace has passed after the first return or after ctx was
// cancelled. It returns the first error, wrapped with the service's name, or
// ErrStopTimeout naming the services still running (their goroutines are then
// abandoned: the caller is expected to exit). It returns nil when every
// service stopped gracefully.
func (g *Group) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan result, len(g.services)) // buffered: abandoned goroutines never block
	for i, s := range g.services {
		go func() { results <- result{i, s.Run(ctx)} }()
	}
	running := make([]bool, len(g.services))
	for i := range running {
		running[i] = true
	}
	var first error
	record := func(r result) {
		running[r.index] = false
		if r.err != nil && first == nil {
			first = fmt.Errorf("%s: %w", g.names[r.index], r.err)
		}
	}
	select { // with no services, this waits for ctx like any Service
	case r := <-results:
		record(r)
	case <-ctx.Done():
	}
	cancel()
	if err := g.drain(results, running, record); err != nil && first == nil {
		first = err
	}
	return first
}

// drain collects the results of the services still running, for at most
// Grace.
func (g *Group) drain(results <-chan result, running []bool, record func(result)) error {
	var deadline <-chan time.Time
	if g.Grace > 0 {
		t := time.NewTimer(g.Grace)
		defer t.Stop()
		deadline = t.C
	}
	for count(running) > 0 {
		select {
		case r := <-results:
			record(r)
		case <-deadline:
			return fmt.Errorf("%w: %s", ErrStopTimeout, strings.Join(g.still(running), ", "))
		}
	}
	return nil
}

func (g *Group) still(running []bool) []string {
	var names []string
	for i, r := range running {
		if r {
			names = append(names, g.names[i])
		}
	}
	return names
}

func count(running []bool) int {
	n := 0
	for _, r := range running {
		if r {
			n++
		}
	}
	return n
}

// guard documents that Func is a Service.
var _ Service = Func(nil)

package bench

import (
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// maxSamples bounds the error texts a result keeps, per run.
const maxSamples = 10

// stats are a run's counters. Every method is safe for concurrent use.
type stats struct {
	measuring atomic.Bool // inside the measured window

	// Window-only histograms, for the result.
	all, toAgent, toCustomer, requests Histogram
	// window is the histogram of every delivery since the last progress
	// line; the printer swaps in a fresh one each second.
	window atomic.Pointer[Histogram]

	sent, received             atomic.Int64 // messages, the whole run
	sentWindow, receivedWindow atomic.Int64 // messages in the window
	lost, duplicated, reorder  atomic.Int64
	open, dormant              atomic.Int64 // sessions open now
	completed                  atomic.Int64 // active sessions ended

	mu      sync.Mutex       // guards errs, causes and samples
	errs    map[string]int64 // by kind
	causes  map[string]int64 // by kind and cause: "send 8200"
	samples []string
}

func newStats() *stats {
	s := &stats{errs: map[string]int64{}, causes: map[string]int64{}}
	s.window.Store(new(Histogram))
	return s
}

// delivered records one message received after d; toAgent says which way.
func (s *stats) delivered(d time.Duration, toAgent bool) {
	s.received.Add(1)
	s.window.Load().Record(d)
	if !s.measuring.Load() {
		return
	}
	s.receivedWindow.Add(1)
	s.all.Record(d)
	if toAgent {
		s.toAgent.Record(d)
	} else {
		s.toCustomer.Record(d)
	}
}

// sentOne counts a message acknowledged to its sender.
func (s *stats) sentOne() {
	s.sent.Add(1)
	if s.measuring.Load() {
		s.sentWindow.Add(1)
	}
}

// request records the round trip of one customer request.
func (s *stats) request(d time.Duration) {
	if s.measuring.Load() {
		s.requests.Record(d)
	}
}

// fail counts an error of kind and keeps its text while there are few.
func (s *stats) fail(kind string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs[kind]++
	s.causes[kind+" "+cause(err)]++
	if len(s.samples) < maxSamples {
		s.samples = append(s.samples, fmt.Sprintf("%s: %v", kind, err))
	}
}

// errors returns the error counts by kind, their total and the samples.
func (s *stats) errors() (map[string]int64, int64, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var total int64
	for _, n := range s.errs {
		total += n
	}
	return maps.Clone(s.errs), total, append([]string(nil), s.samples...)
}

// swapWindow starts a new progress window and returns the one that ended.
func (s *stats) swapWindow() *Histogram { return s.window.Swap(new(Histogram)) }

// failures returns the error counts by kind and cause.
func (s *stats) failures() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.causes)
}

package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// recorder is a CommitFunc that records batches and refuses odd items.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	// entered and release, when set, hold each commit: it signals entered,
	// then waits until release is closed.
	entered chan struct{}
	release chan struct{}
}

func newHeldRecorder() *recorder {
	return &recorder{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

var errOdd = errors.New("odd")

func (r *recorder) commit(_ context.Context, items []int) []error {
	if r.entered != nil {
		r.entered <- struct{}{}
		<-r.release
	}
	r.mu.Lock()
	r.batches = append(r.batches, append([]int(nil), items...))
	r.mu.Unlock()
	errs := make([]error, len(items))
	for i, it := range items {
		if it%2 == 1 {
			errs[i] = fmt.Errorf("item %d: %w", it, errOdd)
		}
	}
	return errs
}

func TestDoReturnsPerItemErrors(t *testing.T) {
	rec := &recorder{}
	c := New(rec.commit, 8, 0)
	defer c.Close()
	var wg sync.WaitGroup
	errs := make([]error, 100)
	for i := range errs {
		wg.Go(func() { errs[i] = c.Do(t.Context(), i) })
	}
	wg.Wait()
	for i, err := range errs {
		if odd := i%2 == 1; odd != errors.Is(err, errOdd) {
			t.Errorf("item %d: got %v", i, err)
		}
	}
	total := 0
	for _, b := range rec.batches {
		if len(b) > 8 {
			t.Errorf("batch of %d items exceeds the cap of 8", len(b))
		}
		total += len(b)
	}
	if total != 100 {
		t.Errorf("committed %d items, want 100", total)
	}
}

func TestBatchesFormWhileACommitRuns(t *testing.T) {
	rec := newHeldRecorder()
	c := New(rec.commit, 256, 0)
	defer c.Close()
	first := make(chan error, 1)
	go func() { first <- c.Do(t.Context(), 0) }()
	<-rec.entered // the first commit is now running, alone
	var wg sync.WaitGroup
	for i := 1; i <= 10; i++ {
		wg.Go(func() {
			if err := c.Do(t.Context(), i*2); err != nil {
				t.Errorf("item %d: %v", i*2, err)
			}
		})
	}
	waitQueued(c, 10)
	close(rec.release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if len(rec.batches) != 2 || len(rec.batches[1]) != 10 {
		t.Fatalf("batches %v, want [0] then the 10 others together", rec.batches)
	}
}

// waitQueued waits until n requests sit in the queue; it polls the channel
// length because the committer is held in a commit and cannot drain it.
func waitQueued[T any](c *Committer[T], n int) {
	for len(c.reqs) < n {
		runtime.Gosched()
	}
}

func TestCloseDrainsThenRefuses(t *testing.T) {
	rec := newHeldRecorder()
	c := New(rec.commit, 4, 0)
	res := make(chan error, 3)
	go func() { res <- c.Do(context.Background(), 0) }()
	<-rec.entered
	for i := 1; i <= 2; i++ {
		go func() { res <- c.Do(context.Background(), i*2) }()
	}
	waitQueued(c, 2)
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	close(rec.release)
	<-closed
	for range 3 {
		if err := <-res; err != nil {
			t.Errorf("queued item failed on Close: %v", err)
		}
	}
	if err := c.Do(t.Context(), 2); !errors.Is(err, ErrClosed) {
		t.Errorf("Do after Close: got %v, want ErrClosed", err)
	}
	c.Close() // idempotent
}

func TestDoHonoursContext(t *testing.T) {
	rec := newHeldRecorder()
	c := New(rec.commit, 4, 0)
	defer c.Close()
	defer close(rec.release)
	go c.Do(context.Background(), 0)
	<-rec.entered // the committer is busy, so item 2 can only wait
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.Do(ctx, 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestWrongResultCountFailsEveryItem(t *testing.T) {
	c := New(func(context.Context, []int) []error { return nil }, 4, 0)
	defer c.Close()
	if err := c.Do(t.Context(), 1); err == nil {
		t.Fatal("want an error when commit returns no results")
	}
}

func TestLingerGathersUnderLoad(t *testing.T) {
	rec := newHeldRecorder()
	c := New(rec.commit, 256, 300*time.Millisecond)
	defer c.Close()
	go c.Do(t.Context(), 0)
	<-rec.entered // held, alone: the next two queue behind it
	var wg sync.WaitGroup
	for _, it := range []int{2, 4} {
		wg.Go(func() { _ = c.Do(t.Context(), it) })
	}
	waitQueued(c, 2)
	close(rec.release)
	wg.Wait() // [2 4] was a batch of more than one: the next one lingers
	wg.Go(func() { _ = c.Do(t.Context(), 6) })
	time.Sleep(50 * time.Millisecond)
	wg.Go(func() { _ = c.Do(t.Context(), 8) })
	wg.Wait()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if n := len(rec.batches); n != 3 || len(rec.batches[2]) != 2 {
		t.Errorf("batches %v, want [0], 2 and 4, then 6 and 8 together: 6 should have waited for 8", rec.batches)
	}
}

func TestLoneWriterDoesNotLinger(t *testing.T) {
	c := New((&recorder{}).commit, 256, time.Hour)
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for i := range 3 {
		if err := c.Do(ctx, i*2); err != nil {
			t.Fatalf("write %d of a lone writer: %v", i, err)
		}
	}
}

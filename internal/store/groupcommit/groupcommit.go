package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("groupcommit: closed")

// CommitFunc writes a batch of items at once, normally in one transaction,
// and returns one error per item, in the order of items: nil for an item that
// is durable, its own error for an item that was refused. When the whole batch
// fails it returns the same error for every item.
type CommitFunc[T any] func(ctx context.Context, items []T) []error

// Committer collects items from concurrent callers of Do and commits them in
// batches of at most a fixed size through one goroutine. It is safe for
// concurrent use; Close stops its goroutine.
type Committer[T any] struct {
	commit CommitFunc[T]
	max    int
	linger time.Duration
	reqs   chan *request[T]
	done   chan struct{}

	// mu guards closed and, held for reading, keeps reqs open while a
	// caller sends on it.
	mu     sync.RWMutex
	closed bool
}

// request is one pending item and the channel its result goes back on.
type request[T any] struct {
	ctx  context.Context
	item T
	res  chan error // buffered, so the committer never blocks on a caller that left
}

// Linger is the linger a store's writer passes to New: a few milliseconds on
// an acknowledgement buy one commit for many chats' messages instead of one
// for every few.
const Linger = 2 * time.Millisecond

// New starts a Committer that commits through commit in batches of at most
// size items (at least 1). Under load, when the last batch held more than one
// item, a batch starts at least linger after the one before it, collecting
// meanwhile: fewer, larger commits cost the store less per item (one round
// trip, one fsync) for a few milliseconds of latency. A lone writer never
// waits. The caller must Close it.
func New[T any](commit CommitFunc[T], size int, linger time.Duration) *Committer[T] {
	size = max(size, 1)
	c := &Committer[T]{
		commit: commit,
		max:    size,
		linger: linger,
		reqs:   make(chan *request[T], size),
		done:   make(chan struct{}),
	}
	go c.run()
	return c
}

// Do queues item for the next batch and waits until that batch is committed,
// returning the item's own error. If ctx ends first Do returns ctx's error;
// an item already handed to the committer may then still be committed, so a
// caller must treat that error as "outcome unknown". Items whose ctx has
// ended before their batch starts are not committed. After Close, Do returns
// ErrClosed.
func (c *Committer[T]) Do(ctx context.Context, item T) error {
	r := &request[T]{ctx: ctx, item: item, res: make(chan error, 1)}
	if err := c.enqueue(ctx, r); err != nil {
		return err
	}
	select {
	case err := <-r.res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Committer[T]) enqueue(ctx context.Context, r *request[T]) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return ErrClosed
	}
	select {
	case c.reqs <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting items, commits every item already queued, and stops
// the committer goroutine. It is idempotent and returns when the goroutine
// has exited.
func (c *Committer[T]) Close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.reqs)
	}
	c.mu.Unlock()
	<-c.done
}

// run is the committer goroutine: it exits once reqs is closed and drained.
func (c *Committer[T]) run() {
	defer close(c.done)
	batch := make([]*request[T], 0, c.max)
	pause := time.NewTimer(0)
	defer pause.Stop()
	var last time.Time // when the last batch of more than one item started
	for first := range c.reqs {
		batch = append(batch[:0], first)
		if wait := c.linger - time.Since(last); wait > 0 {
			pause.Reset(wait)
			batch = c.collect(batch, pause.C)
		}
		batch = c.collect(batch, nil)
		if len(batch) > 1 {
			last = time.Now()
		}
		c.flush(batch)
		clear(batch) // drop references to finished requests
	}
}

// collect adds requests to batch until it is full or reqs is closed and,
// with a nil until, until none is waiting; otherwise until until fires.
func (c *Committer[T]) collect(batch []*request[T], until <-chan time.Time) []*request[T] {
	for len(batch) < c.max {
		var r *request[T]
		var ok bool
		if until == nil {
			select {
			case r, ok = <-c.reqs:
			default:
				return batch
			}
		} else {
			select {
			case r, ok = <-c.reqs:
			case <-until:
				return batch
			}
		}
		if !ok {
			return batch
		}
		batch = append(batch, r)
	}
	return batch
}

// flush commits the live requests of batch and completes every request.
func (c *Committer[T]) flush(batch []*request[T]) {
	live := batch[:0:0]
	items := make([]T, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.res <- err
			continue
		}
		live = append(live, r)
		items = append(items, r.item)
	}
	if len(items) == 0 {
		return
	}
	errs := c.commit(context.Background(), items)
	for i, r := range live {
		r.res <- resultAt(errs, i, len(items))
	}
}

// resultAt is the error of item i, guarding against a CommitFunc that broke
// its contract by returning the wrong number of errors.
func resultAt(errs []error, i, n int) error {
	if len(errs) != n {
		return fmt.Errorf("groupcommit: commit returned %d results for %d items", len(errs), n)
	}
	return errs[i]
}

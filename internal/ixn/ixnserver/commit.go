package ixnserver

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/wire"
)

// storeTimeout bounds one commit, so that a hung database cannot hold
// every reply forever.
const storeTimeout = 15 * time.Second

// job is one operation's writes and what to do once they are durable.
type job struct {
	batch ixn.Batch
	after func(ctx context.Context) // replies and notices; may read the store
	// refuse answers the request, if any, when its writes failed; nothing
	// else of the job goes out.
	refuse func(*wire.Error)
}

// errStoreWrite is what a request whose writes failed gets: 106, so that a
// media server retries it with the server that takes over.
var errStoreWrite = wire.Errorf(wire.CodeUnavailable, "the interaction store refused the write; this interaction server is stepping down")

// committer writes jobs to the store in the order they were added, several
// queued jobs in one transaction, and runs each job's after func once its
// batch is committed. Adding never blocks; one goroutine (run) does the
// rest, so replies and events leave in the order the engine produced them.
type committer struct {
	store  ixn.Store
	log    *slog.Logger
	failed func(error) // counts a failed commit and makes the server step down
	broken error       // the failed commit's error; only run touches it

	mu     sync.Mutex // guards queue and closed
	queue  []job
	closed bool
	wake   chan struct{} // capacity 1: the queue has jobs, or closed
}

func newCommitter(store ixn.Store, log *slog.Logger, failed func(error)) *committer {
	return &committer{store: store, log: log, failed: failed, wake: make(chan struct{}, 1)}
}

// add queues j; after close it runs nothing.
func (c *committer) add(j job) {
	c.mu.Lock()
	if !c.closed {
		c.queue = append(c.queue, j)
	}
	c.mu.Unlock()
	c.signal()
}

func (c *committer) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// close makes run return once the jobs already queued are done.
func (c *committer) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.signal()
}

// run commits and runs jobs until closed and drained.
func (c *committer) run() {
	for range c.wake {
		for {
			jobs, closed := c.take()
			if len(jobs) == 0 {
				if closed {
					return
				}
				break
			}
			c.do(jobs)
		}
	}
}

func (c *committer) take() ([]job, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	jobs := c.queue
	c.queue = nil
	return jobs, c.closed
}

// do commits the jobs' batches in one transaction and runs their after
// funcs in order. After a failed commit the engine holds changes the store
// does not, so nothing of those jobs, or of any later one, is announced:
// each request gets EventError and the server steps down (failed), to be
// started again, or replaced by its backup, from what the store holds.
func (c *committer) do(jobs []job) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	var failed error
	if b := merge(jobs); !b.Empty() && c.broken == nil {
		if failed = c.store.Commit(ctx, b); failed != nil {
			c.log.Error("interaction store commit failed; stepping down", "err", failed,
				"saves", len(b.Saves), "deletes", len(b.Deletes), "events", len(b.Events))
			c.broken = failed
		}
	}
	for _, j := range jobs {
		switch {
		case c.broken != nil:
			if j.refuse != nil {
				j.refuse(errStoreWrite)
			}
		case j.after != nil:
			j.after(ctx)
		}
	}
	if failed != nil {
		c.failed(failed) // after the refusals, which the shutdown then flushes
	}
}

// merge joins the batches of jobs in order: an interaction saved and
// deleted ends as its last operation says.
func merge(jobs []job) ixn.Batch {
	var b ixn.Batch
	saves := map[string]int{} // id -> index in b.Saves
	deleted := map[string]bool{}
	for _, j := range jobs {
		for _, in := range j.batch.Saves {
			delete(deleted, in.ID)
			if i, ok := saves[in.ID]; ok {
				b.Saves[i] = in
				continue
			}
			saves[in.ID] = len(b.Saves)
			b.Saves = append(b.Saves, in)
		}
		for _, id := range j.batch.Deletes {
			deleted[id] = true
		}
		b.Events = append(b.Events, j.batch.Events...)
	}
	for id := range deleted {
		b.Deletes = append(b.Deletes, id)
	}
	return b
}

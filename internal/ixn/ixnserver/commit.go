package ixnserver

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/ixn"
)

// storeTimeout bounds one commit, so that a hung database cannot hold
// every reply forever.
const storeTimeout = 15 * time.Second

// job is one operation's writes and what to do once they are durable.
type job struct {
	batch ixn.Batch
	after func(ctx context.Context) // replies and notices; may read the store
}

// committer writes jobs to the store in the order they were added, several
// queued jobs in one transaction, and runs each job's after func once its
// batch is committed. Adding never blocks; one goroutine (run) does the
// rest, so replies and events leave in the order the engine produced them.
type committer struct {
	store  ixn.Store
	log    *slog.Logger
	failed func() // counts a failed commit

	mu     sync.Mutex // guards queue and closed
	queue  []job
	closed bool
	wake   chan struct{} // capacity 1: the queue has jobs, or closed
}

func newCommitter(store ixn.Store, log *slog.Logger, failed func()) *committer {
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
// funcs in order. A failed commit is logged and counted, and the replies
// still go out: the engine's state has changed and the interactions
// concerned are written again with their next change.
func (c *committer) do(jobs []job) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if b := merge(jobs); !b.Empty() {
		if err := c.store.Commit(ctx, b); err != nil {
			c.failed()
			c.log.Error("interaction store commit failed", "err", err,
				"saves", len(b.Saves), "deletes", len(b.Deletes), "events", len(b.Events))
		}
	}
	for _, j := range jobs {
		if j.after != nil {
			j.after(ctx)
		}
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

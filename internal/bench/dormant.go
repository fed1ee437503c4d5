package bench

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Dormant sessions are created and polled by a bounded set of workers.
const (
	dormantWorkers = 64
	dormantTick    = 100 * time.Millisecond // the REST poll pacer's period
	cleanupTimeout = 20 * time.Second       // bounds the dormant chats' disconnects
)

// dormantSet is the run's dormant async sessions.
type dormantSet struct {
	r     *runner
	chats []customer     // by index; nil where the chat could not be opened
	wg    sync.WaitGroup // the poller
}

// createDormant opens cfg.Dormant async chats, dormantWorkers at a time,
// until they are all open or ctx ends.
func createDormant(ctx context.Context, r *runner) *dormantSet {
	d := &dormantSet{r: r, chats: make([]customer, r.cfg.Dormant)}
	forEach(ctx, len(d.chats), func(i int) { d.create(ctx, i) })
	return d
}

// create opens dormant chat i.
func (d *dormantSet) create(ctx context.Context, i int) {
	c, err := d.r.openCustomer(ctx, i, chatRequest{nickname: fmt.Sprintf("dormant %d", i), async: true}, nil)
	if err != nil {
		d.r.st.fail("dormant-create", err)
		return
	}
	d.chats[i] = c
	d.r.st.dormant.Add(1)
}

// forEach runs f(0..n-1) on dormantWorkers goroutines and returns when all
// have run or ctx has ended.
func forEach(ctx context.Context, n int, f func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(dormantWorkers, n) {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
}

// poll keeps the REST customers polling, each every DormantPoll, until ctx
// ends: every tick the pacer hands the next share of them to the workers.
// A pushed customer (CometD, wire) needs nothing: it stays subscribed.
func (d *dormantSet) poll(ctx context.Context) {
	if d.r.cfg.Transport.pushed() || len(d.chats) == 0 {
		return
	}
	d.wg.Go(func() {
		per := max(1, int(int64(len(d.chats))*int64(dormantTick)/int64(d.r.cfg.DormantPoll)))
		t := time.NewTicker(dormantTick)
		defer t.Stop()
		for cursor := 0; ; cursor = (cursor + per) % len(d.chats) {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			forEach(ctx, per, func(i int) { d.pollOne(ctx, d.chats[(cursor+i)%len(d.chats)]) })
		}
	})
}

func (d *dormantSet) pollOne(ctx context.Context, c customer) {
	if rc, _ := c.(*restCustomer); rc == nil || rc.ended {
		return
	}
	start := time.Now()
	err := c.poll(ctx)
	d.r.st.request(time.Since(start))
	if err != nil && ctx.Err() == nil {
		d.r.st.fail("dormant-poll", err)
	}
}

// close stops the poller and ends every dormant chat: a customer that can
// leaves it (within cleanupTimeout; the chat server's timeouts end the
// rest), and every customer's client is closed.
func (d *dormantSet) close() {
	d.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	forEach(ctx, len(d.chats), func(i int) {
		c := d.chats[i]
		if c == nil {
			return
		}
		if l, ok := c.(leaver); ok {
			_ = l.leave(ctx) // best effort: the run is over
		}
		c.close()
	})
	d.r.st.dormant.Store(0)
}

package bench

import (
	"context"
	"fmt"
	"net/url"
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
	rest  []*restCustomer
	comet []*cometCustomer
	wg    sync.WaitGroup // the poller
}

// asyncForm asks for an async chat: it lives on with no agent.
func asyncForm(i int) url.Values {
	return url.Values{"nickname": {fmt.Sprintf("dormant %d", i)}, "userData[GCTI_Chat_AsyncMode]": {"true"}}
}

// createDormant opens cfg.Dormant async chats, dormantWorkers at a time,
// until they are all open or ctx ends.
func createDormant(ctx context.Context, r *runner) *dormantSet {
	d := &dormantSet{r: r}
	n := r.cfg.Dormant
	if r.comet != nil {
		d.comet = make([]*cometCustomer, n)
	} else {
		d.rest = make([]*restCustomer, n)
	}
	forEach(ctx, n, func(i int) { d.create(ctx, i) })
	return d
}

// create opens dormant chat i.
func (d *dormantSet) create(ctx context.Context, i int) {
	if d.comet != nil {
		c, err := d.r.comet.dial(ctx, nil)
		if err == nil {
			if err = c.open(ctx, map[string]any{"nickname": fmt.Sprintf("dormant %d", i),
				"userData": map[string]string{"GCTI_Chat_AsyncMode": "true"}}); err != nil {
				c.close()
			}
		}
		if err != nil {
			d.r.st.fail("dormant-create", err)
			return
		}
		d.comet[i] = c
	} else {
		c := &restCustomer{c: d.r.rest}
		if err := c.open(ctx, asyncForm(i)); err != nil {
			d.r.st.fail("dormant-create", err)
			return
		}
		d.rest[i] = c
	}
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
// A CometD customer needs nothing: its connect stays held.
func (d *dormantSet) poll(ctx context.Context) {
	if len(d.rest) == 0 {
		return
	}
	d.wg.Go(func() {
		per := max(1, int(int64(len(d.rest))*int64(dormantTick)/int64(d.r.cfg.DormantPoll)))
		t := time.NewTicker(dormantTick)
		defer t.Stop()
		for cursor := 0; ; cursor = (cursor + per) % len(d.rest) {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			forEach(ctx, per, func(i int) { d.pollOne(ctx, d.rest[(cursor+i)%len(d.rest)]) })
		}
	})
}

func (d *dormantSet) pollOne(ctx context.Context, c *restCustomer) {
	if c == nil || c.ended {
		return
	}
	start := time.Now()
	err := c.poll(ctx)
	d.r.st.request(time.Since(start))
	if err != nil && ctx.Err() == nil {
		d.r.st.fail("dormant-poll", err)
	}
}

// close stops the poller and ends every dormant chat: REST customers
// disconnect (within cleanupTimeout; the chat server's timeouts end the
// rest), CometD customers close their Bayeux client.
func (d *dormantSet) close() {
	d.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	forEach(ctx, max(len(d.rest), len(d.comet)), func(i int) {
		if d.comet != nil && d.comet[i] != nil {
			d.comet[i].close()
		}
		if d.rest != nil && d.rest[i] != nil {
			_ = d.rest[i].disconnect(ctx) // best effort: the run is over
		}
	})
	d.r.st.dormant.Store(0)
}

package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Bounds of a run's end.
const (
	minGrace     = 2 * time.Second  // the least a session waits for its last deliveries
	drainTimeout = 30 * time.Second // past the grace, sessions still running are cut
)

// runner is one step in progress: the clients, the counters and the two
// lifetimes. soft ends with the window, when sessions stop talking and
// close; hard ends once they have, and cuts whatever still runs.
type runner struct {
	cfg    Config
	st     *stats
	rest   *restClient
	comet  *cometEndpoint // nil but over CometD
	flex   *flexCustomers // nil but over Wire
	agents *agents
	chaos  *chaosRun      // nil without Config.Chaos
	slots  sync.WaitGroup // the active slots
	soft   context.Context
	hard   context.Context
}

// grace is how long a closing session waits for the deliveries it misses.
func (r *runner) grace() time.Duration {
	if r.cfg.Transport.pushed() {
		return minGrace
	}
	return 2*r.cfg.Poll + minGrace
}

// Run runs one step of cfg: it opens the dormant sessions, ramps the active
// ones up over Ramp, measures for Duration, then lets every session close.
// It stops early, with what it measured so far, when ctx ends.
func Run(ctx context.Context, cfg Config) (Step, error) {
	if err := cfg.Validate(); err != nil {
		return Step{}, err
	}
	hard, cut := context.WithCancel(ctx)
	defer cut()
	soft, stop := context.WithCancel(hard)
	defer stop()
	r := &runner{cfg: cfg, st: newStats(), soft: soft, hard: hard,
		rest:   newRESTClient(cfg.Target, cfg.Service, 4096),
		agents: newAgents(cfg.ChatServers, cfg.Credentials, cfg.Sessions, cfg.AgentsPerConn),
		chaos:  newChaosRun(cfg.Chaos)}
	if cfg.Transport.cometd() {
		r.comet = newCometEndpoint(cfg.Target, cfg.Service, cfg.Transport)
		defer r.comet.http.CloseIdleConnections()
	}
	if cfg.Transport == Wire {
		r.flex = newFlexCustomers(cfg)
		defer r.flex.close()
	}
	defer r.rest.close()
	defer r.agents.close()
	p := r.startProgress()
	defer p.stop()
	step := r.measure(p, stop)
	r.finish(cut)
	r.fill(&step)
	return step, ctx.Err()
}

// measure runs the load up to the window's end and returns the step's
// machine figures; the session figures are filled in once sessions end.
func (r *runner) measure(p *progress, stop context.CancelFunc) Step {
	p.phase("dormant")
	d := createDormant(r.soft, r)
	d.poll(r.soft)
	defer d.close()
	p.phase("ramp")
	r.startSlots()
	procs := append(append([]Process(nil), r.cfg.Processes...), Process{Name: "bench", Role: "bench", PID: os.Getpid()})
	wait(r.soft, r.cfg.Ramp)
	p.phase("measure")
	before, t0 := sampleCPU(procs), time.Now()
	r.st.measuring.Store(true)
	stopChaos := r.startChaos()
	wait(r.soft, r.cfg.Duration)
	stopChaos()
	r.st.measuring.Store(false)
	after, window := sampleCPU(procs), time.Since(t0)
	step := Step{Sessions: r.cfg.Sessions, Dormant: r.cfg.Dormant, DormantOpen: r.st.dormant.Load(),
		WindowS: window.Seconds()}
	step.Processes = processStats(procs, before, after, window)
	p.phase("closing")
	stop()
	return step
}

// startChaos starts the kills of Config.Chaos, if any, and returns what
// stops them and waits for the last one.
func (r *runner) startChaos() func() {
	if r.chaos == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(r.soft)
	var wg sync.WaitGroup
	wg.Go(func() { r.chaos.loop(ctx, r.st) })
	return func() { cancel(); wg.Wait() }
}

// startSlots starts the active slots, spread over the ramp.
func (r *runner) startSlots() {
	n := r.cfg.Sessions
	r.slots.Add(n)
	for i := range n {
		delay := time.Duration(int64(r.cfg.Ramp) * int64(i) / int64(max(n, 1)))
		go func() {
			defer r.slots.Done()
			r.slot(i, delay)
		}()
	}
}

// slot runs sessions one after the other from delay on, until the window
// ends; after a chat that could not be opened it pauses one Think.
func (r *runner) slot(i int, delay time.Duration) {
	if !wait(r.soft, delay) {
		return
	}
	for r.soft.Err() == nil {
		if !newSession(r, i).run() {
			wait(r.soft, r.cfg.think())
		}
	}
}

// finish waits for the sessions to close, cutting them after drainTimeout.
func (r *runner) finish(cut context.CancelFunc) {
	done := make(chan struct{})
	go func() { r.slots.Wait(); close(done) }()
	t := time.NewTimer(r.grace() + drainTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		cut()
		<-done
	}
}

// wait waits d or until ctx ends, and reports whether d passed.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// progress prints a line of live figures every second.
type progress struct {
	r     *runner
	w     io.Writer
	start time.Time
	stopc chan struct{}
	wg    sync.WaitGroup

	mu  sync.Mutex // guards now
	now string     // the phase
}

func (r *runner) startProgress() *progress {
	w := r.cfg.Progress
	if w == nil {
		w = io.Discard
	}
	p := &progress{r: r, w: w, start: time.Now(), stopc: make(chan struct{}), now: "start"}
	p.wg.Go(p.loop)
	return p
}

func (p *progress) phase(name string) {
	p.mu.Lock()
	p.now = name
	p.mu.Unlock()
}

func (p *progress) loop() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-p.stopc:
			return
		case <-t.C:
		}
		last = p.print(last)
	}
}

// print writes one line and returns the received count it saw.
func (p *progress) print(last int64) int64 {
	st := p.r.st
	h := st.swapWindow()
	got := st.received.Load()
	_, errs, _ := st.errors()
	p.mu.Lock()
	phase := p.now
	p.mu.Unlock()
	fmt.Fprintf(p.w, "%5.0fs %-8s open %d dormant %d  msg/s %d  errors %d lost %d dup %d  latency p50 %s p99 %s\n",
		time.Since(p.start).Seconds(), phase, st.open.Load(), st.dormant.Load(), got-last, errs,
		st.lost.Load(), st.duplicated.Load(), h.Quantile(0.5).Round(100*time.Microsecond),
		h.Quantile(0.99).Round(100*time.Microsecond))
	return got
}

func (p *progress) stop() {
	close(p.stopc)
	p.wg.Wait()
}

package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
)

// Defaults of a supervisor's timings.
const (
	readyTimeout = 60 * time.Second       // how long up waits for a child's /healthz
	pollInterval = 100 * time.Millisecond // between two /healthz probes
	outputDelay  = 2 * time.Second        // how long Wait waits for a dead child's output pipes
)

// supervisor runs the children of one `parley up`. Its run method owns every
// goroutine it starts: a keeper per application, which ends when its last
// child is reaped and will not be restarted, and readiness probes, which
// end before the next group starts (or, after a restart, with their
// keeper's wait for the child).
type supervisor struct {
	con          *console
	command      func(args ...string) (*exec.Cmd, error)
	runDir       string
	config       string // the absolute path of the deployment file children read
	grace        time.Duration
	readyTimeout time.Duration
	pollInterval time.Duration
	restart      restartPolicy
	probe        *http.Client
	deployment   *config.Deployment
	hup          <-chan os.Signal // SIGHUPs to forward to the children; nil for none
	// listeners are up's listeners by application: until its first child
	// holds them when up does not restart children, for as long as up runs
	// when it does (each restarted child is handed the same ones).
	listeners map[string]appListeners
	quit      chan struct{} // closed by stop: keepers waiting to restart give up

	mu       sync.Mutex     // guards stopping and apps' current children
	stopping bool           // set once up stops its children: their exits are expected
	apps     []*supervised  // appended to by run's goroutine only
	keepers  sync.WaitGroup // one per started application
	reapers  sync.WaitGroup // one per started child
}

// supervised is one application up keeps running, and its current child.
type supervised struct {
	app *config.Application
	cur *child // the supervisor's mu guards it; nil once stopping starts none
	// Written by the keeper only, read after it ended.
	failures int // exits while up was not stopping it, with an error
}

// child is one process of an application.
type child struct {
	app     *config.Application
	cmd     *exec.Cmd
	out     *prefixWriter
	pidFile string
	started time.Time
	done    chan struct{} // closed once the process has been reaped
	// Set before done is closed, read after.
	err        error // from Wait
	unexpected bool  // it exited while up was not stopping it
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func newSupervisor(c *cli, d *config.Deployment, runDir, config string, grace time.Duration, apps []*config.Application) (*supervisor, error) {
	names := make([]string, len(apps))
	for i, a := range apps {
		names[i] = a.Name
	}
	// The probe trusts the deployment's CA, so that it can reach the
	// children that serve TLS.
	trusted, err := service.LoadCerts("", "", "", d.Path(d.Trust.TrustedCAFile))
	if err != nil {
		return nil, fmt.Errorf("up: %w", err)
	}
	return &supervisor{
		con: newConsole(c.stdout, names), command: c.command, runDir: runDir, config: config,
		grace: grace, readyTimeout: readyTimeout, pollInterval: pollInterval, deployment: d,
		restart: defaultRestart, quit: make(chan struct{}),
		// No keep-alive: a probe must not hold a connection the child's
		// graceful stop would wait for.
		probe: &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: trusted.ClientConfig()}},
	}, nil
}

// run starts the groups one after the other, each once the previous one is
// ready, then waits until every application is gone for good or ctx is
// done, and stops whatever still runs. It returns an error when a child
// failed on its own.
func (s *supervisor) run(ctx context.Context, groups [][]*config.Application) error {
	defer s.stop() // on every path, including a failed start
	for _, g := range groups {
		if ctx.Err() != nil {
			break
		}
		if err := s.startGroup(ctx, g); err != nil {
			return err
		}
	}
	allGone := make(chan struct{})
	go func() { s.keepers.Wait(); close(allGone) }() // ends once stop has reaped everyone
	// A SIGHUP during the start is forwarded once every group has started.
	for waiting := true; waiting; {
		select {
		case <-allGone:
			waiting = false
		case <-ctx.Done():
			waiting = false
		case <-s.hup:
			s.hangup()
		}
	}
	s.stop()
	return s.result()
}

// running returns the children that run now.
func (s *supervisor) running() []*child {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*child
	for _, a := range s.apps {
		if a.cur != nil && !a.cur.exited() {
			out = append(out, a.cur)
		}
	}
	return out
}

// hangup forwards SIGHUP to every running child: each re-reads the
// deployment file.
func (s *supervisor) hangup() {
	n := 0
	for _, c := range s.running() {
		if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			s.con.say("SIGHUP to %s: %v", c.app.Name, err)
			continue
		}
		n++
	}
	s.con.say("SIGHUP sent to %d applications: they re-read %s", n, s.config)
}

// startGroup starts every application of g, then waits until each is ready,
// has exited or has had readyTimeout.
func (s *supervisor) startGroup(ctx context.Context, g []*config.Application) error {
	var started []*child
	for _, a := range g {
		c, err := s.start(a)
		if err != nil {
			return err
		}
		sv := &supervised{app: a, cur: c}
		s.mu.Lock()
		s.apps = append(s.apps, sv)
		s.mu.Unlock()
		s.keepers.Add(1)
		go s.keep(ctx, sv)
		started = append(started, c)
	}
	var wg sync.WaitGroup
	for _, c := range started {
		wg.Go(func() { s.awaitReady(ctx, c) })
	}
	wg.Wait()
	return nil
}

// start starts a child of a and writes its pid file. Without restarts, up
// then releases a's listeners.
func (s *supervisor) start(a *config.Application) (*child, error) {
	cmd, err := s.command("run", "--config", s.config, "--app", a.Name)
	if err != nil {
		return nil, err
	}
	out := s.con.writer(a.Name)
	cmd.Stdout, cmd.Stderr = out, out // the same writer: exec serialises its writes
	cmd.SysProcAttr = childAttr()
	cmd.WaitDelay = outputDelay
	files, err := s.inherit(cmd, a.Name)
	if err != nil {
		return nil, err
	}
	err = cmd.Start()
	closeFiles(files) // the child has its own copies
	if !s.restart.on {
		s.release(a.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("up: start %s: %w", a.Name, err)
	}
	c := &child{app: a, cmd: cmd, out: out, started: time.Now(), done: make(chan struct{}),
		pidFile: filepath.Join(s.runDir, a.Name+".pid")}
	if err := writePID(c.pidFile, cmd.Process.Pid); err != nil { // before the reaper, which removes it
		s.con.say("%v", err) // the child runs; only a look-up by pid file misses it
	}
	s.reapers.Add(1)
	go s.reap(c)
	return c, nil
}

// inherit hands the child cmd of application app the listeners up holds
// for it, as descriptors from 3 with LISTEN_FDS and LISTEN_FDNAMES in its
// environment (LISTEN_PID stays unset: up cannot know the child's pid
// before it starts, and run takes an unset LISTEN_PID as its own; see
// service.ActivatedNames). It returns the descriptors' copies, which the
// caller closes once the child started.
func (s *supervisor) inherit(cmd *exec.Cmd, app string) ([]*os.File, error) {
	l, ok := s.listeners[app]
	if !ok {
		return nil, nil
	}
	files, names, err := l.files(app)
	if err != nil {
		return nil, fmt.Errorf("up: %w", err)
	}
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = service.ActivationEnv(env, names)
	cmd.ExtraFiles = files
	return files, nil
}

// release closes up's listeners of app once its child holds them, when up
// will not start it again (--no-restart): the port of a child that died
// then refuses connections, and its peers fail over at once, instead of
// queueing them where nobody will accept them.
func (s *supervisor) release(app string) {
	if l, ok := s.listeners[app]; ok {
		l.close()
		delete(s.listeners, app)
	}
}

// reap waits for c to exit, removes its pid file and reports an unexpected
// exit: the others keep running, as they would in production when one
// server of an HA pair dies.
func (s *supervisor) reap(c *child) {
	defer s.reapers.Done()
	err := c.cmd.Wait()
	c.out.flush()
	if err := removeFile(c.pidFile); err != nil {
		s.con.say("%v", err) // harmless: the next up removes a stale pid file
	}
	s.mu.Lock()
	c.err, c.unexpected = err, !s.stopping
	s.mu.Unlock()
	if c.unexpected {
		s.con.say("%s exited unexpectedly: %s", c.app.Name, status(err))
	} else {
		s.con.say("%s stopped: %s", c.app.Name, status(err))
	}
	close(c.done)
}

func status(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// awaitReady probes c's /healthz until it answers 200, c exits, ctx is done or
// readyTimeout passes, and says which. An interaction server that answers
// 503 "backup" is ready as the backup of its pair once its partner serves:
// the chat servers need not wait for it to take over.
func (s *supervisor) awaitReady(ctx context.Context, c *child) {
	url := endpoint(s.deployment, c.app.Name).URL("http", "/healthz")
	deadline := time.NewTimer(s.readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(s.pollInterval)
	defer tick.Stop()
	base := endpoint(s.deployment, c.app.Name).URL("http", "")
	for {
		switch s.health(ctx, url) {
		case healthOK:
			s.con.say("%s (%s) ready on %s", c.app.Name, c.app.Type, base)
			if c.app.Type == config.WebAPI {
				s.con.say("%s: customer widget %s/widget/ , agent desktop %s/desktop/", c.app.Name, base, base)
			}
			return
		case healthBackup:
			if p := s.servingPartner(ctx, c.app); p != "" {
				s.con.say("%s (%s) ready on %s as the backup of %s", c.app.Name, c.app.Type, base, p)
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-c.done:
			return
		case <-deadline.C:
			s.con.say("%s is not ready after %s (GET %s); still waiting for it", c.app.Name, s.readyTimeout, url)
			return
		case <-tick.C:
		}
	}
}

// What a /healthz probe found.
const (
	healthDown   = iota // no answer, or not ready
	healthOK            // 200
	healthBackup        // 503 "backup": an interaction server waiting for its pair's lock
)

func (s *supervisor) health(ctx context.Context, url string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return healthDown
	}
	resp, err := s.probe.Do(req)
	if err != nil {
		return healthDown
	}
	defer resp.Body.Close()
	switch body, _ := io.ReadAll(io.LimitReader(resp.Body, 64)); {
	case resp.StatusCode == http.StatusOK:
		return healthOK
	case resp.StatusCode == http.StatusServiceUnavailable && strings.TrimSpace(string(body)) == "backup":
		return healthBackup
	}
	return healthDown
}

// servingPartner returns the name of the other interaction server of a's
// pair when it serves (answers 200), whoever started it; "" otherwise.
func (s *supervisor) servingPartner(ctx context.Context, a *config.Application) string {
	for _, name := range s.deployment.Names() {
		other, err := s.deployment.App(name)
		if err != nil || other == a || other.Type != config.InteractionServer || other.Database != a.Database {
			continue
		}
		if s.health(ctx, endpoint(s.deployment, name).URL("http", "/healthz")) == healthOK {
			return name
		}
	}
	return ""
}

// dialAddr turns a listen address into one to connect to: a wildcard host
// becomes the loopback address.
func dialAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}

// stop sends SIGTERM to every running child, waits up to grace for them to
// exit, then kills the rest. It starts no child again, returns once every
// child has been reaped and may be called again.
func (s *supervisor) stop() {
	s.mu.Lock()
	if !s.stopping {
		s.stopping = true
		close(s.quit)
	}
	s.mu.Unlock()
	running := s.running()
	if len(running) == 0 {
		s.wait()
		return
	}
	s.con.say("stopping %d applications (SIGTERM, then SIGKILL after %s)", len(running), s.grace)
	for _, c := range running {
		_ = terminate(c.cmd.Process) // fails only if it has just exited, which reap sees
	}
	timer := time.NewTimer(s.grace)
	defer timer.Stop()
	for _, c := range running {
		select {
		case <-c.done:
		case <-timer.C:
			s.killAll(running)
			s.wait()
			return
		}
	}
	s.wait()
}

// wait returns once every keeper and reaper has ended.
func (s *supervisor) wait() {
	s.keepers.Wait()
	s.reapers.Wait()
}

// killAll kills the children still running after the grace period.
func (s *supervisor) killAll(running []*child) {
	for _, c := range running {
		if c.exited() {
			continue
		}
		s.con.say("%s did not stop within %s: killing it", c.app.Name, s.grace)
		_ = c.cmd.Process.Kill() // fails only if it has just exited
		<-c.done
	}
}

// result is nil unless a child failed while up was not stopping it.
func (s *supervisor) result() error {
	var failed []string
	for _, a := range s.apps {
		if a.failures > 0 {
			failed = append(failed, a.app.Name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("up: %d of %d applications failed: %v", len(failed), len(s.apps), failed)
	}
	return nil
}

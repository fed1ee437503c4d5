package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
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
// goroutine it starts: a reaper per child, which ends when the child is
// reaped, and readiness probes, which end before the next group starts.
type supervisor struct {
	con          *console
	command      func(args ...string) (*exec.Cmd, error)
	runDir       string
	config       string // the absolute path of the deployment file children read
	grace        time.Duration
	readyTimeout time.Duration
	pollInterval time.Duration
	probe        *http.Client
	deployment   *config.Deployment
	hup          <-chan os.Signal        // SIGHUPs to forward to the children; nil for none
	listeners    map[string]appListeners // by application, until its child holds them

	stopping atomic.Bool    // set once up stops its children: their exits are expected
	children []*child       // appended to by run's goroutine only
	reapers  sync.WaitGroup // one per started child
}

// child is one application's process.
type child struct {
	app  *config.Application
	cmd  *exec.Cmd
	out  *prefixWriter
	done chan struct{} // closed once the process has been reaped
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
		// No keep-alive: a probe must not hold a connection the child's
		// graceful stop would wait for.
		probe: &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: trusted.ClientConfig()}},
	}, nil
}

// run starts the groups one after the other, each once the previous one is
// ready, then waits until every child is gone or ctx is done, and stops
// whatever still runs. It returns an error when a child failed on its own.
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
	go func() { s.reapers.Wait(); close(allGone) }() // ends once stop has reaped everyone
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

// hangup forwards SIGHUP to every running child: each re-reads the
// deployment file.
func (s *supervisor) hangup() {
	n := 0
	for _, c := range s.children {
		if c.exited() {
			continue
		}
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
		started = append(started, c)
	}
	var wg sync.WaitGroup
	for _, c := range started {
		wg.Go(func() { s.awaitReady(ctx, c) })
	}
	wg.Wait()
	return nil
}

// start starts the child of a, writes its pid file and its reaper.
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
	s.release(a.Name)
	if err != nil {
		return nil, fmt.Errorf("up: start %s: %w", a.Name, err)
	}
	c := &child{app: a, cmd: cmd, out: out, done: make(chan struct{})}
	s.children = append(s.children, c)
	pidFile := filepath.Join(s.runDir, a.Name+".pid")
	pidErr := writePID(pidFile, cmd.Process.Pid) // before the reaper, which removes it
	s.reapers.Add(1)
	go s.reap(c, pidFile)
	return c, pidErr
}

// inherit hands the child cmd of application app the listeners up holds
// for it, as descriptors from 3 with LISTEN_FDS and LISTEN_FDNAMES in its
// environment (LISTEN_PID stays unset: up cannot know the child's pid
// before it starts, and run takes an unset LISTEN_PID as its own; see
// service.ActivatedNames). It returns the descriptors' copies, which the
// caller closes once the child started, with up's own listeners (see
// release).
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

// release closes up's listeners of app once its child holds them. Up
// starts no child again, so it keeps none: the port of a child that died
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
func (s *supervisor) reap(c *child, pidFile string) {
	defer s.reapers.Done()
	err := c.cmd.Wait()
	c.out.flush()
	if err := removeFile(pidFile); err != nil {
		s.con.say("%v", err) // harmless: the next up removes a stale pid file
	}
	c.err, c.unexpected = err, !s.stopping.Load()
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
// readyTimeout passes, and says which.
func (s *supervisor) awaitReady(ctx context.Context, c *child) {
	url := endpoint(s.deployment, c.app.Name).URL("http", "/healthz")
	deadline := time.NewTimer(s.readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(s.pollInterval)
	defer tick.Stop()
	for !s.healthy(ctx, url) {
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
	base := endpoint(s.deployment, c.app.Name).URL("http", "")
	s.con.say("%s (%s) ready on %s", c.app.Name, c.app.Type, base)
	if c.app.Type == config.WebAPI {
		s.con.say("%s: customer widget %s/widget/ , agent desktop %s/desktop/", c.app.Name, base, base)
	}
}

func (s *supervisor) healthy(ctx context.Context, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := s.probe.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
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
// exit, then kills the rest. It returns once every child has been reaped and
// may be called again.
func (s *supervisor) stop() {
	s.stopping.Store(true)
	var running []*child
	for _, c := range s.children {
		if !c.exited() {
			running = append(running, c)
		}
	}
	if len(running) == 0 {
		return
	}
	s.con.say("stopping %d applications (SIGTERM, then SIGKILL after %s)", len(running), s.grace)
	for _, c := range running {
		_ = terminate(c.cmd.Process) // fails only if it has just exited, which reap sees
	}
	timer := time.NewTimer(s.grace)
	defer timer.Stop()
	for _, c := range s.children {
		select {
		case <-c.done:
		case <-timer.C:
			s.killAll()
			return
		}
	}
}

// killAll kills the children still running after the grace period.
func (s *supervisor) killAll() {
	for _, c := range s.children {
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
	for _, c := range s.children {
		if c.unexpected && c.err != nil {
			failed = append(failed, c.app.Name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("up: %d of %d applications failed: %v", len(failed), len(s.children), failed)
	}
	return nil
}

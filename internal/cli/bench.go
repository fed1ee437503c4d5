package cli

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/bench"
	"github.com/parley-chat/parley/internal/config"
)

// benchOptions are the flags of bench that are not a bench.Config field.
type benchOptions struct {
	cfg          bench.Config
	transport    string
	chatServers  string
	config       string
	spawn, quick bool
	db, dataDir  string
	pin          bool
	tls          bool
	findCapacity bool
	step         float64
	maxSessions  int
	out, profile string
	chaos        time.Duration
}

// benchCommand returns the bench command and its usage text.
func benchCommand() *command {
	return &command{
		name:     "bench",
		synopsis: "(--target URL [--chat-servers NAME=ADDR,... | --config FILE] | --spawn) [flags]\n  or: --transport wire (--chat-servers NAME=ADDR,... | --config FILE | --spawn) [flags]",
		summary:  "measure a deployment under the seed's chat load (and 'bench report')",
		doc: `Bench plays simulated customers (Chat API v2 over REST short polling or
CometD) and agents (the chat server's basic wire side) against a web API and
its chat servers, and measures delivery latency, losses, duplicates and, for
processes it knows, CPU and peak memory. Each active session follows the
seed's scenario: request chat, agent joins, --messages messages from each
party --think apart, agent closes; dormant sessions are async chats with no
agent that poll every --dormant-poll (REST) or stay subscribed (CometD,
wire). A line of live figures is printed every second; --out writes the
result file that 'parley bench report' turns into a table and a plot.

--transport wire measures the chat server alone: customers speak its
customer side of the wire protocol themselves (RequestLogin,
RequestSubscribe, RequestMessage, RequestLogout), sending what a web API
would send for them, with no web API and so not the GMS path. Its customers
share connections as a web API's do: all of a chat server's on one, or
--customers-per-conn on each.

--spawn starts a deployment itself, as 'parley up' would, under --data-dir:
one chat server (GOMAXPROCS=1, pinned to CPU 0 with taskset when --pin and
taskset exist), one web API (none with --transport wire) and the generator
on the other CPUs, SQLite (or --db postgres://...), transcript-auto-save 1.
--target measures a running deployment (with --transport wire, give no
--target: the chat servers are what is measured); the chat servers come
from --chat-servers or --config, and without pid files no CPU figures are
reported for them.

--chaos EVERY (with --spawn, customers on the web API) runs two chat
servers and, during the window, SIGKILLs one in turn every EVERY and starts
it again a second later; agents follow their chats to the chat server that
restored them. It reports the restore time (kill to each affected chat's
first acknowledged send), failed requests by cause, and lost, duplicated,
stuck and ghost chats; such a step passes with none of the last four.

--cpuprofile FILE writes the generator's CPU profile to FILE and, with
--spawn, each application's to FILE.APP (FILE.chat-1 for the chat server),
for 'go tool pprof'. A running chat server can also be profiled with perf:
  perf record -g -p $(cat <data-dir>/run/chat-1.pid) -- sleep 30
(with --spawn --data-dir DIR; Go binaries keep frame pointers).

'parley bench report [--svg FILE] RESULT.json...' prints the markdown table
of docs/benchmarks.md, the seed's figures included, and writes the plot.`,
		example: "parley bench --spawn --transport websocket --find-capacity --sessions 200 --out ws.json",
		setup:   benchSetup,
	}
}

func benchSetup(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
	o := &benchOptions{cfg: bench.Defaults()}
	cfg := &o.cfg
	fs.StringVar(&cfg.Target, "target", "", "the web API to measure, `http://host:port`")
	fs.StringVar(&o.chatServers, "chat-servers", "", "with --target, or --transport wire without --spawn: the chat servers agents (and wire customers) speak to, `NAME=HOST:PORT,...`")
	fs.StringVar(&o.config, "config", "", "instead of --chat-servers: read the chat servers from this deployment `FILE`")
	fs.BoolVar(&o.spawn, "spawn", false, "start a deployment (one chat server, and one web API unless --transport wire) and measure it")
	fs.StringVar(&o.db, "db", "", "with --spawn: the database `DSN`, postgres://... for PostgreSQL, else SQLite (e.g. file:parley.db?_synchronous=NORMAL)")
	fs.StringVar(&o.dataDir, "data-dir", "", "with --spawn: the deployment's data-dir, kept afterwards (default: a temporary one, removed)")
	fs.BoolVar(&o.pin, "pin", true, "with --spawn: pin the chat server to CPU 0, the web API and the generator to the others")
	fs.BoolVar(&o.tls, "tls", false, "with --spawn --transport wire: the chat server serves TLS (certificates made as parley certs makes them) and the generator dials it with wss://")
	fs.StringVar(&o.transport, "transport", "rest", "customers' transport: `rest`, websocket, long-polling, or wire (the chat server's customer side, no web API)")
	fs.StringVar(&cfg.Service, "service", cfg.Service, "the Chat API v2 `SERVICE` to request chats on")
	fs.IntVar(&cfg.Sessions, "sessions", 1000, "active sessions kept open (with --find-capacity: the first step)")
	fs.IntVar(&cfg.Dormant, "dormant", 0, "dormant async sessions opened before the active ones")
	fs.DurationVar(&cfg.DormantPoll, "dormant-poll", cfg.DormantPoll, "a dormant REST customer's poll interval")
	fs.DurationVar(&cfg.Ramp, "ramp", cfg.Ramp, "how long opening the active sessions takes")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "the measured window, after the ramp")
	fs.DurationVar(&cfg.Poll, "poll", cfg.Poll, "an active REST customer's poll interval")
	fs.DurationVar(&cfg.SessionLength, "session-length", cfg.SessionLength, "one session's length")
	fs.IntVar(&cfg.Messages, "messages", cfg.Messages, "messages per party per session")
	fs.DurationVar(&cfg.Think, "think", 0, "pause between two messages (default: session-length/(2*messages+1))")
	fs.IntVar(&cfg.AgentsPerConn, "agents-per-conn", cfg.AgentsPerConn, "agents sharing one wire connection")
	fs.IntVar(&cfg.CustomersPerConn, "customers-per-conn", 0, "with --transport wire: customers sharing one wire connection (0: all of a chat server's on one, as a web API has)")
	fs.BoolVar(&o.findCapacity, "find-capacity", false, "raise --sessions by --step until a step fails, and report the largest that passed")
	fs.Float64Var(&o.step, "step", 1.5, "with --find-capacity: the `FACTOR` between two steps")
	fs.IntVar(&o.maxSessions, "max-sessions", 100000, "with --find-capacity: the largest step tried")
	fs.DurationVar(&cfg.P99Bound, "p99-bound", cfg.P99Bound, "a step passes with p99 latency within this, and no error, loss or duplicate")
	fs.BoolVar(&o.quick, "quick", false, "a small run that ends within a minute (overrides the sizes and times)")
	fs.StringVar(&o.out, "out", "", "write the result to this JSON `FILE`")
	fs.DurationVar(&o.chaos, "chaos", 0, "with --spawn: run two chat servers and SIGKILL one, in turn, every `EVERY` of the window, restarting it as up would")
	fs.StringVar(&o.profile, "cpuprofile", "", "write the generator's CPU profile to `FILE` and, with --spawn, each application's to FILE.APP")
	return func(ctx context.Context, args []string) error {
		if err := noArgs(args); err != nil {
			return err
		}
		return c.bench(ctx, o)
	}
}

// bench runs the command once its flags are parsed.
func (c *cli) bench(ctx context.Context, o *benchOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	stopProfile, err := startProfile(o.profile)
	if err != nil {
		return err
	}
	defer stopProfile()
	res := bench.NewResult(o.cfg, o.cfg.P99Bound)
	if o.spawn {
		d, err := c.spawn(ctx, o)
		if err != nil {
			return err
		}
		defer d.stop()
		o.cfg.Target, o.cfg.ChatServers, o.cfg.Processes, o.cfg.Credentials = d.target, d.chats, d.procs, d.cred
		if o.chaos > 0 {
			o.cfg.Chaos = &bench.Chaos{Every: o.chaos, Kill: d.killer.kill}
		}
		res.Setup.Target, res.Setup.Spawned, res.Setup.Store, res.Setup.Pinning = d.target, true, d.store, d.pinning
		res.Setup.AutoSave, res.Setup.TLS = 1, o.tls
	}
	o.cfg.Progress = c.stdout
	runErr := c.measure(ctx, o, &res)
	c.summary(res)
	if o.out != "" {
		if err := res.WriteFile(o.out); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "result written to %s\n", o.out)
	}
	return runErr
}

// check completes and checks the options: transport, quick, target mode.
func (o *benchOptions) check() error {
	t, err := bench.ParseTransport(o.transport)
	if err != nil {
		return usageError{err}
	}
	o.cfg.Transport = t
	if o.quick {
		o.cfg = o.cfg.Quick()
	}
	if t == bench.Wire {
		if o.cfg.Target != "" {
			return usageErrorf("--transport wire speaks to the chat servers: give --chat-servers or --config, not --target")
		}
		if o.spawn == (o.chatServers != "" || o.config != "") {
			return usageErrorf("--transport wire: give either --spawn or the chat servers (--chat-servers or --config)")
		}
	} else if o.spawn == (o.cfg.Target != "") {
		return usageErrorf("give either --target or --spawn")
	}
	if o.chaos < 0 || o.chaos > 0 && (!o.spawn || t == bench.Wire || o.tls || o.findCapacity) {
		return usageErrorf("--chaos kills the chat servers of a deployment it spawns: give it with --spawn, customers on the web API, no --tls or --find-capacity")
	}
	if o.tls && (!o.spawn || t != bench.Wire) {
		return usageErrorf("--tls measures the chat server's wire side: give it with --spawn --transport wire")
	}
	if !o.spawn {
		if err := o.targetServers(); err != nil {
			return err
		}
	}
	if err := o.cfg.Validate(); err != nil && !o.spawn {
		return usageError{err}
	}
	return nil
}

// targetServers reads the chat servers to measure, of --target or, with
// --transport wire, on their own, from --chat-servers or --config.
func (o *benchOptions) targetServers() error {
	if o.config != "" {
		d, err := loadDeployment(o.config)
		if err != nil {
			return err
		}
		o.cfg.ChatServers = appAddrs(d, config.ChatServer)
		o.cfg.Credentials, err = benchCredentials(d)
		return err
	}
	o.cfg.ChatServers = map[string]string{}
	for pair := range strings.SplitSeq(o.chatServers, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		name, addr, ok := strings.Cut(pair, "=")
		if !ok || name == "" || addr == "" {
			return usageErrorf("--chat-servers: %q is not NAME=HOST:PORT", pair)
		}
		o.cfg.ChatServers[name] = addr
	}
	return nil
}

// appAddrs returns the addresses to reach d's applications of type t at.
func appAddrs(d *config.Deployment, t config.AppType) map[string]string {
	out := map[string]string{}
	for name, addr := range listenAddrs(d, t) {
		out[name] = dialAddr(addr)
	}
	return out
}

// measure runs one step, or the capacity search.
func (c *cli) measure(ctx context.Context, o *benchOptions, res *bench.Result) error {
	if o.findCapacity {
		return bench.FindCapacity(ctx, o.cfg, o.step, o.maxSessions, res)
	}
	step, err := bench.Run(ctx, o.cfg)
	res.Steps = append(res.Steps, step)
	return err
}

// summary prints what was measured and each step's main figures.
func (c *cli) summary(res bench.Result) {
	fmt.Fprintf(c.stdout, "measured: %s\n", res.Setup.Measures)
	for _, s := range res.Steps {
		verdict := "FAIL"
		if s.Passed {
			verdict = "pass"
		}
		fmt.Fprintf(c.stdout, "%s: %d active + %d dormant (%s): %.0f msg/s, latency p50 %.1f ms p99 %.1f ms (gate %.1f ms), errors %d, lost %d, duplicated %d\n",
			verdict, s.Sessions, s.Dormant, res.Setup.Transport, s.MessagesPerSecond, s.Latency.P50, s.Latency.P99,
			s.GateP99Ms, s.Errors, s.Lost, s.Duplicated)
		if ch := s.Chaos; ch != nil {
			fmt.Fprintf(c.stdout, "  chaos: %d kills every %gs (%s), %d chats affected, %d agents rejoined, restore p50 %.0f ms p99 %.0f ms max %.0f ms, stuck %d, ghost %d\n",
				ch.Kills, ch.EveryS, strings.Join(ch.Victims, " "), ch.Affected, ch.Rejoins, ch.Restore.P50, ch.Restore.P99, ch.Restore.Max, ch.Stuck, ch.Ghost)
			for _, k := range slices.Sorted(maps.Keys(s.FailedByCause)) {
				fmt.Fprintf(c.stdout, "  failed %-24s %d\n", k, s.FailedByCause[k])
			}
		}
		for _, p := range s.Processes {
			fmt.Fprintf(c.stdout, "  %-10s %-11s cpu %6.1f%% of a core, peak rss %d MiB\n", p.Name, p.Role, p.CPUPercent, p.PeakRSSBytes>>20)
		}
	}
	if res.Capacity > 0 {
		fmt.Fprintf(c.stdout, "capacity: %d active sessions\n", res.Capacity)
	}
}

// startProfile starts this process's CPU profile into file, when named, and
// returns what stops it.
func startProfile(file string) (func(), error) {
	if file == "" {
		return func() {}, nil
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// spawnReady bounds how long a spawned deployment has to take a first chat.
const spawnReady = 60 * time.Second

// spawned is a deployment bench started for itself.
type spawned struct {
	target         string
	chats          map[string]string
	cred           *bench.Credentials
	procs          []bench.Process
	store, pinning string
	stop           func() // stops every process and removes a temporary data-dir
	killer         *chaosKiller
}

// spawn writes a deployment of one chat server and, unless customers speak
// wire, one web API, and starts
// it as up does, with the pinning of --pin, its output in deployment.log.
func (c *cli) spawn(ctx context.Context, o *benchOptions) (*spawned, error) {
	dir, cleanup, err := benchDir(o.dataDir)
	if err != nil {
		return nil, err
	}
	if isPostgres(o.db) {
		dsn, drop, err := benchSchema(ctx, o.db)
		if err != nil {
			cleanup()
			return nil, err
		}
		o.db, cleanup = dsn, func() { drop(); cleanup() }
	}
	file, err := writeBenchDeployment(dir, o)
	if err != nil {
		cleanup()
		return nil, err
	}
	s, err := c.startDeployment(ctx, dir, file, newPinPlan(o.pin, o.cfg.Transport != bench.Wire), o.profile, o.cfg.Transport == bench.Wire, o.chaos > 0)
	if err != nil {
		cleanup()
		return nil, err
	}
	stop := s.stop
	s.stop = func() { stop(); cleanup() }
	s.store = storeName(o.db)
	fmt.Fprintf(c.stdout, "deployment ready in %s (log: %s), %s, %s\n", dir, filepath.Join(dir, "deployment.log"), s.store, s.pinning)
	return s, nil
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// storeName names the store of a --db value for the result, with a SQLite
// synchronous setting other than the default.
func storeName(dsn string) string {
	if isPostgres(dsn) {
		return "PostgreSQL"
	}
	if _, q, ok := strings.Cut(dsn, "?"); ok {
		if v, err := url.ParseQuery(q); err == nil && v.Get("_synchronous") != "" {
			return "SQLite (synchronous=" + strings.ToUpper(v.Get("_synchronous")) + ")"
		}
	}
	return "SQLite"
}

// benchDir returns the directory of a spawned deployment and what removes
// it: nothing for a --data-dir the user named.
func benchDir(dataDir string) (string, func(), error) {
	if dataDir != "" {
		dir, err := filepath.Abs(dataDir)
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			return "", nil, fmt.Errorf("bench: %w", err)
		}
		return dir, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return "", nil, fmt.Errorf("bench: %w", err)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// writeBenchDeployment writes dir/bench.yaml: chat-1 (and chat-2 with
// --chaos) and gms-1 on free
// loopback ports (gms-1 only declared when customers speak wire: the bench
// proves itself to chat-1 as that web API), no session limits,
// transcript-auto-save 1, and REST subscriptions, flex-disconnect-timeout and
// flex-push-timeout that outlive a dormant customer's poll interval (the seed
// advises long protocol timeouts for async chat: a REST customer that polls
// every 300 s must not be removed after the default 45 s).
func writeBenchDeployment(dir string, o *benchOptions) (string, error) {
	chat, err := freePort()
	if err != nil {
		return "", err
	}
	db := fmt.Sprintf("{driver: sqlite, dsn: %q}", cmp.Or(o.db, "parley.db"))
	if isPostgres(o.db) {
		db = fmt.Sprintf("{driver: postgres, dsn: %q}", o.db)
	}
	idle := min(3600, max(30, int(3*o.cfg.DormantPoll.Seconds())))
	trusted, tlsKey := "", func(string) string { return "" }
	if o.tls {
		trusted = "trusted-ca-file: certs/ca.pem\n"
		tlsKey = func(app string) string {
			return fmt.Sprintf("    tls: {cert-file: certs/%s.pem, key-file: certs/%s-key.pem}\n", app, app)
		}
	}
	chatApp := func(name, addr string) string {
		return fmt.Sprintf(`  %s:
%s    type: chat-server
    listen: %q
    database: main
    options:
      settings: {transcript-auto-save: 1, limit-for-sessions: 1000000, limit-for-flex-users: 1000000, flex-disconnect-timeout: %d, flex-push-timeout: %d}
`, name, tlsKey(name), addr, idle, idle)
	}
	yaml := fmt.Sprintf(`%sdata-dir: %q
databases:
  main: %s
applications:
`, trusted, filepath.Join(dir, "data"), db) + chatApp("chat-1", chat)
	connections := "[chat-1]"
	if o.chaos > 0 {
		chat2, err := freePort()
		if err != nil {
			return "", err
		}
		yaml += chatApp("chat-2", chat2)
		connections = "[chat-1, chat-2]"
	}
	{
		web, err := freePort()
		if err != nil {
			return "", err
		}
		yaml += fmt.Sprintf(`  gms-1:
%s    type: web-api
    listen: %q
    connections: %s
    options:
      settings: {rest-subscription-idle: %d, request-timeout: 10}
      # The load comes from one address: its per-address limits would refuse it.
      limits: {max-connections: 0, max-connections-per-address: 0, new-chats-per-address: 0, cometd-clients-per-address: 0, cometd-connects-per-address: 0}
`, tlsKey("gms-1"), web, connections, idle)
	}
	file := filepath.Join(dir, "bench.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	if o.tls {
		return file, benchCerts(file, []byte(yaml))
	}
	return file, nil
}

// benchCerts makes the certificates the bench deployment in file names,
// as parley certs would, valid for a day.
func benchCerts(file string, yaml []byte) error {
	d, err := config.Parse(file, yaml)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if _, err := writeCerts(d, d.Path("certs"), 1); err != nil {
		return fmt.Errorf("bench: certificates: %w", err)
	}
	return nil
}

// benchCredentials returns what the bench proves itself with: the first
// web API of d (by name) that connects to a chat server, and the deployment
// key, which also signs its agents' grants; with the deployment's CA when
// the chat servers serve TLS.
func benchCredentials(d *config.Deployment) (*bench.Credentials, error) {
	key, err := deploymentKey(d)
	if err != nil {
		return nil, err
	}
	for _, name := range d.Names() {
		app := d.Applications[name]
		if app.Type != config.WebAPI || len(app.Connections) == 0 {
			continue
		}
		cred := &bench.Credentials{Name: name, Key: key}
		if chat := d.Applications[app.Connections[0]]; chat != nil && chat.TLS != nil {
			certs, err := loadCerts(d, app)
			if err != nil {
				return nil, err
			}
			cred.TLS = certs.ClientConfig()
		}
		return cred, nil
	}
	return nil, fmt.Errorf("bench: %s has no web API connected to its chat servers, as which the bench could prove itself", d.File)
}

// freePort returns a loopback address nothing listens on now.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startDeployment runs the deployment file under a supervisor, as up
// does, and waits until the web API, or the chat server when there is no web
// API, opens a chat. With profile named, each
// application writes its CPU profile to profile.APP when it stops.
// With wireOnly, the web API is declared but not started.
func (c *cli) startDeployment(ctx context.Context, dir, file string, pin pinPlan, profile string, wireOnly, chaos bool) (*spawned, error) {
	d, err := loadDeployment(file)
	if err != nil {
		return nil, err
	}
	runDir := filepath.Join(d.DataDir, "run")
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	apps, _ := selectApps(d, "")
	if err := checkPIDFiles(d.DataDir, runDir, names(apps)); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "deployment.log"))
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if wireOnly {
		apps = slices.DeleteFunc(apps, func(a *config.Application) bool { return a.Type == config.WebAPI })
	}
	cred, err := benchCredentials(d)
	if err != nil {
		return nil, err
	}
	command, err := profiled(pin.command(c.command, d), profile)
	if err != nil {
		return nil, err
	}
	sub := &cli{stdout: log, stderr: log, command: command}
	sup, err := newSupervisor(sub, d, runDir, file, 10*time.Second, apps)
	if err != nil {
		return nil, err
	}
	// The figures are of the processes bench started: none is restarted,
	// but under --chaos, whose kills the supervisor repairs as up would.
	sup.restart.on = false
	if chaos {
		sup.restart = chaosRestartPolicy
	}
	supCtx, stopSup := context.WithCancel(context.WithoutCancel(ctx)) // stopped after the bench, not by Ctrl-C
	finished := make(chan struct{})
	go func() { _ = sup.run(supCtx, groups(apps)); close(finished) }()
	s := &spawned{chats: appAddrs(d, config.ChatServer), cred: cred, pinning: pin.desc, killer: newChaosKiller(d, runDir, log),
		stop: func() { stopSup(); <-finished; log.Close() }}
	if web, ok := appAddrs(d, config.WebAPI)["gms-1"]; ok && !wireOnly {
		s.target = "http://" + web
	}
	if err := s.await(ctx, apps, runDir, finished); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w (see %s)", err, log.Name())
	}
	if err := pin.pinSelf(); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// await waits until the web API (or with none, chat-1) opens a chat or the
// supervisor ends, then reads the pids of apps.
func (s *spawned) await(ctx context.Context, apps []*config.Application, runDir string, finished <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, spawnReady)
	defer cancel()
	go func() {
		select {
		case <-finished:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := s.ready(ctx); err != nil {
		return err
	}
	for _, app := range apps {
		pid, err := readPID(filepath.Join(runDir, app.Name+".pid"))
		if err != nil {
			return err
		}
		s.procs = append(s.procs, bench.Process{Name: app.Name, Role: string(app.Type), PID: pid})
	}
	return nil
}

// ready waits until the web API, or with none chat-1, opens a chat.
func (s *spawned) ready(ctx context.Context) error {
	service := bench.Defaults().Service
	if s.target == "" {
		return bench.ReadyChatServer(ctx, "chat-1", s.chats["chat-1"], service, s.cred)
	}
	return bench.Ready(ctx, s.target, service)
}

// pinPlan is where the spawned processes run: the chat server alone on CPU
// 0, the web API (if any) and the generator on the other CPUs.
type pinPlan struct {
	taskset string // the taskset program; empty: no pinning
	chat    string // taskset CPU lists
	others  string
	self    []int
	desc    string
}

// newPinPlan pins when asked to, taskset exists and there are two CPUs or
// more; webAPI says whether a web API runs beside the generator. The chat
// server runs with GOMAXPROCS=1 in every case.
func newPinPlan(pin, webAPI bool) pinPlan {
	n := runtime.NumCPU()
	path, err := exec.LookPath("taskset")
	if !pin || err != nil || n < 2 {
		return pinPlan{desc: "chat server GOMAXPROCS=1, not pinned"}
	}
	p := pinPlan{taskset: path, chat: "0", others: "1-" + strconv.Itoa(n-1)}
	for cpu := 1; cpu < n; cpu++ {
		p.self = append(p.self, cpu)
	}
	others := "generator (no web API)"
	if webAPI {
		others = "web API and generator"
	}
	p.desc = fmt.Sprintf("chat server taskset -c 0 GOMAXPROCS=1; %s taskset -c %s", others, p.others)
	return p
}

// command wraps base so that d's chat servers get GOMAXPROCS=1, and every
// application its CPUs.
func (p pinPlan) command(base func(...string) (*exec.Cmd, error), d *config.Deployment) func(...string) (*exec.Cmd, error) {
	return func(args ...string) (*exec.Cmd, error) {
		cmd, err := base(args...)
		if err != nil {
			return nil, err
		}
		cpus := p.others
		if app := d.Applications[appArg(args)]; app != nil && app.Type == config.ChatServer {
			cmd.Env, cpus = append(os.Environ(), "GOMAXPROCS=1"), p.chat
		}
		if p.taskset == "" {
			return cmd, nil
		}
		pinned := exec.Command(p.taskset, append([]string{"-c", cpus, cmd.Path}, cmd.Args[1:]...)...)
		pinned.Env = cmd.Env
		return pinned, nil
	}
}

// profiled adds --cpuprofile FILE.APP to each application's run command line
// when file is named, so that every spawned process profiles itself.
func profiled(base func(...string) (*exec.Cmd, error), file string) (func(...string) (*exec.Cmd, error), error) {
	if file == "" {
		return base, nil
	}
	abs, err := filepath.Abs(file) // the children may run elsewhere
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return func(args ...string) (*exec.Cmd, error) {
		if app := appArg(args); app != "" {
			args = append(slices.Clip(args), "--cpuprofile", abs+"."+app)
		}
		return base(args...)
	}, nil
}

// appArg returns the value of --app in a run command line.
func appArg(args []string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--app" {
			return args[i+1]
		}
	}
	return ""
}

// pinSelf moves the generator onto the web API's CPUs.
func (p pinPlan) pinSelf() error {
	if p.taskset == "" {
		return nil
	}
	return bench.PinSelf(p.self)
}

// benchReportCommand returns the bench report command and its usage text.
func benchReportCommand() *command {
	return &command{
		name:     "bench report",
		synopsis: "[--svg FILE] RESULT.json...",
		summary:  "turn bench result files into a markdown table and an SVG plot",
		doc: `Bench report reads result files of 'parley bench --out' and prints the
markdown table of docs/benchmarks.md: one row per measured step, after the
seed's own sizing figures. With --svg it also writes a plot of active
sessions against p99 latency and against the chat server's CPU, one line per
result file.`,
		example: "parley bench report --svg docs/bench-capacity.svg rest.json websocket.json",
		setup: func(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
			svg := fs.String("svg", "", "write the plot to this SVG `FILE`")
			return func(_ context.Context, args []string) error {
				if len(args) == 0 {
					return usageErrorf("name at least one result file")
				}
				return c.benchReport(args, *svg)
			}
		},
	}
}

func (c *cli) benchReport(files []string, svg string) error {
	results := make([]bench.Result, len(files))
	labels := make([]string, len(files))
	for i, f := range files {
		r, err := bench.ReadResult(f)
		if err != nil {
			return err
		}
		results[i], labels[i] = r, strings.TrimSuffix(filepath.Base(f), ".json")
	}
	fmt.Fprint(c.stdout, bench.Report(results, labels))
	if svg == "" {
		return nil
	}
	if err := os.WriteFile(svg, bench.Plot(results, labels), 0o644); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	return nil
}

package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/deploy"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/settle"
)

// The test binary doubles as the child of up: with GO_WANT_HELPER_PROCESS=1
// it runs helperMain instead of the tests, as os/exec's tests do.
func TestMain(m *testing.M) {
	if os.Getenv("GO_WANT_HELPER_PROCESS") == "1" {
		os.Exit(helperMain(os.Args[1:]))
	}
	code := m.Run()
	if build.bin != "" {
		os.RemoveAll(filepath.Dir(build.bin))
	}
	os.Exit(code)
}

// helperMain stands in for `parley run --config FILE --app NAME`: it serves
// /healthz on the listener it inherited as NAME, as run would, or else on the
// application's listen address, until SIGTERM, printing a line to stdout
// (and one saying which listener) and one to stderr. HELPER_CRASH=NAME makes application NAME exit
// with status 3 at once; HELPER_IGNORE_TERM=NAME makes it ignore SIGTERM;
// HELPER_BACKUP=NAME makes its /healthz answer 503 "backup", as the backup
// of an interaction server pair does.
func helperMain(args []string) int {
	fs := flag.NewFlagSet("helper", flag.ContinueOnError)
	file := fs.String("config", "", "")
	name := fs.String("app", "", "")
	if len(args) == 0 || args[0] != "run" || fs.Parse(args[1:]) != nil {
		fmt.Fprintf(os.Stderr, "helper: bad arguments %q\n", args)
		return 2
	}
	d, err := config.Load(*file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	app, err := d.App(*name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("helper %s pid=%d\n", app.Name, os.Getpid())
	fmt.Fprintf(os.Stderr, "helper %s to stderr\n", app.Name)
	if os.Getenv("HELPER_CRASH") == app.Name {
		fmt.Println("crashing")
		return 3
	}
	return helperServe(app)
}

func helperServe(app *config.Application) int {
	ctx := context.Background()
	if os.Getenv("HELPER_IGNORE_TERM") == app.Name {
		signal.Ignore(syscall.SIGTERM)
	} else {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, syscall.SIGTERM)
		defer stop()
	}
	in, err := (&cli{}).inheritListeners()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	inheritedMain := in[app.Name] != nil
	ln, err := in.listen(app.Name, app.Listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("helper %s serves on %s inherited=%t\n", app.Name, ln.Addr(), inheritedMain)
	var health func() error
	if os.Getenv("HELPER_BACKUP") == app.Name { // an interaction server waiting for its pair's lock
		health = func() error { return errors.New("backup") }
	}
	if err := service.ServeHTTP(ctx, ln, service.NewMux(nil, health, nil), time.Second, slog.New(slog.DiscardHandler)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("helper stopped")
	return 0
}

// helperCommand returns a cli.command that starts the test binary as the
// helper, with env added to its environment.
func helperCommand(env ...string) func(args ...string) (*exec.Cmd, error) {
	return func(args ...string) (*exec.Cmd, error) {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), append([]string{"GO_WANT_HELPER_PROCESS=1", noRaceExitDelay}, env...)...)
		return cmd, nil
	}
}

// noRaceExitDelay spares a helper built with -race the race detector's one
// second pause at exit.
const noRaceExitDelay = "GORACE=atexit_sleep_ms=0"

// testApps are the applications of testDeployment, in start order.
var testApps = []string{"ixn-1", "chat-1", "chat-backup"}

// testDeployment returns a deployment file with data-dir dataDir and
// testApps listening on addrs.
func testDeployment(dataDir string, addrs ...string) string {
	return fmt.Sprintf(`data-dir: %s
databases:
  main: {driver: sqlite, dsn: parley.db}
applications:
  ixn-1: {type: interaction-server, listen: "%s", database: main}
  chat-1:
    type: chat-server
    listen: "%s"
    database: main
    connections: [ixn-1]
    options:
      settings:
        transcript-auto-save: 1
  chat-backup: {type: chat-server, listen: "%s", database: main, connections: [ixn-1]}
`, dataDir, addrs[0], addrs[1], addrs[2])
}

// syncBuffer is a bytes.Buffer safe for a writer and a polling reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// upRun is one `parley up` running in the test process.
type upRun struct {
	dataDir     string
	addrs       map[string]string // listen address by application
	out, errOut syncBuffer
	cancel      context.CancelFunc
	code        chan int
	width       int // of the names prefixing up's output lines
}

// prefix is what starts the output lines of name ("parley" for up's own).
func (r *upRun) prefix(name string) string { return fmt.Sprintf("%-*s | ", r.width, name) }

// testRestart is up's restart policy in the tests: short delays.
var testRestart = restartPolicy{first: 50 * time.Millisecond, max: 200 * time.Millisecond, stable: time.Minute}

// startUp runs `parley up` on a fresh testDeployment, with helper children
// whose environment has env added. Up, run in the test process, is handed
// listeners the test bound, as a parent process would hand them.
func startUp(t *testing.T, env []string, args ...string) *upRun {
	t.Helper()
	dir := t.TempDir()
	held, addrs := holdListeners(t, testApps...)
	dataDir := filepath.Join(dir, "data")
	file := filepath.Join(dir, "parley.yaml")
	if err := os.WriteFile(file, []byte(testDeployment(dataDir, addrs["ixn-1"], addrs["chat-1"], addrs["chat-backup"])), 0o644); err != nil {
		t.Fatal(err)
	}
	return runUp(t, file, dataDir, addrs, held.take(), env, args...)
}

// runUp runs `parley up --config file` with args, handing it lns, until
// the test ends.
func runUp(t *testing.T, file, dataDir string, addrs map[string]string, lns map[string]net.Listener, env []string, args ...string) *upRun {
	t.Helper()
	r := &upRun{dataDir: dataDir, addrs: addrs, code: make(chan int, 1), width: len(supervisorName)}
	selected := slices.Collect(maps.Keys(addrs))
	if i := slices.Index(args, "--apps"); i >= 0 {
		selected = strings.Split(args[i+1], ",")
	}
	for _, name := range selected {
		r.width = max(r.width, len(name))
	}
	c := &cli{stdout: &r.out, stderr: &r.errOut, command: helperCommand(env...), restart: &testRestart,
		inherit: func() (map[string]net.Listener, error) { return lns, nil }}
	ctx, cancel := context.WithCancel(t.Context())
	r.cancel = cancel
	go func() { r.code <- c.main(ctx, append([]string{"up", "--config", file}, args...)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.code:
		case <-time.After(30 * time.Second):
			t.Error("up did not return after cancel")
		}
	})
	return r
}

// stop cancels up, as Ctrl-C does, and returns its exit code.
func (r *upRun) stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	select {
	case code := <-r.code:
		r.code <- code // for the cleanup
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("up did not return after cancel; output:\n%s", r.out.String())
		return -1
	}
}

// eventually fails the test unless cond holds within 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	settle.Eventually(t, 20*time.Second, what, cond)
}

func (r *upRun) waitOutput(t *testing.T, want string) {
	t.Helper()
	eventually(t, fmt.Sprintf("%q in up's output", want), func() bool { return strings.Contains(r.out.String(), want) })
}

func (r *upRun) readyLine(name, typ string) string {
	return fmt.Sprintf("%s%s (%s) ready on http://%s\n", r.prefix(supervisorName), name, typ, r.addrs[name])
}

func (r *upRun) waitReady(t *testing.T, names ...string) {
	t.Helper()
	types := map[string]string{"ixn-1": "interaction-server", "ixn-2": "interaction-server", "chat-1": "chat-server", "chat-backup": "chat-server"}
	for _, name := range names {
		r.waitOutput(t, r.readyLine(name, types[name]))
	}
}

func (r *upRun) pidFile(name string) string { return filepath.Join(r.dataDir, "run", name+".pid") }

// helperPID returns the pid application name printed, checking that its pid
// file holds the same.
func (r *upRun) helperPID(t *testing.T, name string) int {
	t.Helper()
	m := regexp.MustCompile(fmt.Sprintf(`(?m)^%shelper %s pid=(\d+)$`, regexp.QuoteMeta(r.prefix(name)), name)).FindStringSubmatch(r.out.String())
	if m == nil {
		t.Fatalf("no pid line of %s in output:\n%s", name, r.out.String())
	}
	pid, _ := strconv.Atoi(m[1])
	if got, err := readPID(r.pidFile(name)); err != nil || got != pid {
		t.Errorf("pid file of %s: %d, %v; want %d", name, got, err, pid)
	}
	return pid
}

func TestUpStartsInOrderAndStopsAll(t *testing.T) {
	t.Parallel()
	r := startUp(t, nil)
	r.waitReady(t, testApps...)
	out := r.out.String()
	if strings.Index(out, r.readyLine("ixn-1", "interaction-server")) > strings.Index(out, "chat-1      | helper chat-1") {
		t.Errorf("a chat server started before the interaction server was ready:\n%s", out)
	}
	pids := map[string]int{}
	for _, name := range testApps {
		if want := fmt.Sprintf("%-11s | helper %s serves on %s inherited=true\n", name, name, r.addrs[name]); !strings.Contains(out, want) {
			t.Errorf("%s does not serve on the listener up handed it: no %q", name, want)
		}
		if !strings.Contains(out, fmt.Sprintf("%-11s | helper %s to stderr\n", name, name)) {
			t.Errorf("no prefixed stderr line of %s", name)
		}
		pids[name] = r.helperPID(t, name)
		if !alive(pids[name]) {
			t.Errorf("%s (pid %d) is not running", name, pids[name])
		}
	}
	if code := r.stop(t); code != exitOK {
		t.Fatalf("exit %d; stderr %q", code, r.errOut.String())
	}
	out = r.out.String()
	for name, pid := range pids {
		if !strings.Contains(out, fmt.Sprintf("%-11s | %s stopped: exit status 0\n", supervisorName, name)) {
			t.Errorf("%s did not stop gracefully:\n%s", name, out)
		}
		if alive(pid) {
			t.Errorf("%s (pid %d) still runs after up returned", name, pid)
		}
		if _, err := os.Stat(r.pidFile(name)); !os.IsNotExist(err) {
			t.Errorf("pid file of %s not removed: %v", name, err)
		}
	}
	if n := strings.Count(out, "| helper stopped\n"); n != len(testApps) {
		t.Errorf("%d helpers saw SIGTERM, want %d", n, len(testApps))
	}
}

// TestUpKeepsOthersWhenOneCrashes: with --no-restart, a child that fails
// is reported, its pid file removed, and the others keep running.
func TestUpKeepsOthersWhenOneCrashes(t *testing.T) {
	t.Parallel()
	r := startUp(t, []string{"HELPER_CRASH=chat-1"}, "--no-restart")
	r.waitOutput(t, "chat-1      | crashing\n")
	r.waitOutput(t, "parley      | chat-1 exited unexpectedly: exit status 3\n")
	r.waitReady(t, "ixn-1", "chat-backup")
	if _, err := os.Stat(r.pidFile("chat-1")); !os.IsNotExist(err) {
		t.Errorf("pid file of the crashed child not removed: %v", err)
	}
	backup := r.helperPID(t, "chat-backup")
	resp, err := http.Get("http://" + r.addrs["chat-backup"] + "/healthz")
	if err != nil {
		t.Fatalf("chat-backup after chat-1 crashed: %v", err)
	}
	resp.Body.Close()
	if conn, err := net.Dial("tcp", r.addrs["chat-1"]); err == nil { // up kept no copy of its listener
		conn.Close()
		t.Errorf("chat-1's address still accepts connections after it crashed with --no-restart")
	}
	if code := r.stop(t); code != exitFailure {
		t.Errorf("exit %d, want 1", code)
	}
	if strings.Contains(r.out.String(), "restarts in") {
		t.Errorf("up restarted chat-1 with --no-restart:\n%s", r.out.String())
	}
	if want := "parley: up: 1 of 3 applications failed: [chat-1]\n"; r.errOut.String() != want {
		t.Errorf("stderr %q, want %q", r.errOut.String(), want)
	}
	if alive(backup) {
		t.Errorf("chat-backup (pid %d) still runs", backup)
	}
}

func TestUpKillsAfterGrace(t *testing.T) {
	t.Parallel()
	r := startUp(t, []string{"HELPER_IGNORE_TERM=chat-1"}, "--grace", "300ms")
	r.waitReady(t, testApps...)
	pid := r.helperPID(t, "chat-1")
	if code := r.stop(t); code != exitOK {
		t.Errorf("exit %d; stderr %q", code, r.errOut.String())
	}
	out := r.out.String()
	for _, want := range []string{"parley      | chat-1 did not stop within 300ms: killing it\n", "parley      | chat-1 stopped: signal: killed\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if alive(pid) {
		t.Errorf("chat-1 (pid %d) survived", pid)
	}
}

func TestUpRefusesLiveDataDir(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	runDir := filepath.Join(dataDir, "run")
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(runDir, "chat-1.pid")
	if err := writePID(pidFile, os.Getpid()); err != nil { // the test process: certainly alive
		t.Fatal(err)
	}
	_, addrs := holdListeners(t, testApps...) // never served: up refuses first
	file := filepath.Join(t.TempDir(), "parley.yaml")
	if err := os.WriteFile(file, []byte(testDeployment(dataDir, addrs["ixn-1"], addrs["chat-1"], addrs["chat-backup"])), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	c := &cli{stdout: &out, stderr: &errOut, command: helperCommand()}
	code := c.main(t.Context(), []string{"up", "--config", file})
	want := fmt.Sprintf("parley: data-dir in use: %s: %s names running process %d", dataDir, pidFile, os.Getpid())
	if code != exitFailure || !strings.HasPrefix(errOut.String(), want) || strings.Count(errOut.String(), "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut.String(), want)
	}
	if out.Len() != 0 {
		t.Errorf("up started something:\n%s", out.String())
	}
	if _, err := os.Stat(pidFile); err != nil {
		t.Errorf("live pid file removed: %v", err)
	}
}

// TestUpRefusesTakenAddress: while another process serves on chat-1's
// address, up names chat-1 and the address, suggests --config, starts none
// of the children and releases the addresses it held; the other process
// keeps serving.
func TestUpRefusesTakenAddress(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	held, addrs := holdListeners(t, testApps...)
	file := filepath.Join(dir, "parley.yaml")
	if err := os.WriteFile(file, []byte(testDeployment(dataDir, addrs["ixn-1"], addrs["chat-1"], addrs["chat-backup"])), 0o644); err != nil {
		t.Fatal(err)
	}
	// The other process: a helper serving chat-1's address, as another
	// deployment's chat server would.
	other, _ := helperCommand()("run", "--config", file, "--app", "chat-1")
	var otherOut syncBuffer
	other.Stdout, other.Stderr = &otherOut, &otherOut
	held.start(other, "chat-1")
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	waitHealth(t, addrs["chat-1"], http.StatusOK, "ok")

	var out, errOut syncBuffer
	c := &cli{stdout: &out, stderr: &errOut, command: helperCommand(),
		inherit: func() (map[string]net.Listener, error) { return held.take(), nil }} // ixn-1 and chat-backup
	code := c.main(t.Context(), []string{"up", "--config", file})
	want := fmt.Sprintf(`parley: up: application "chat-1" cannot listen on %s: `, addrs["chat-1"])
	if code != exitFailure || !strings.HasPrefix(errOut.String(), want) || !strings.Contains(errOut.String(), "another deployment") ||
		!strings.Contains(errOut.String(), "--config") {
		t.Errorf("exit %d, stderr %q; want 1 and %q...", code, errOut.String(), want)
	}
	if out.String() != "" {
		t.Errorf("up started something:\n%s", out.String())
	}
	if pids, _ := filepath.Glob(filepath.Join(dataDir, "run", "*.pid")); len(pids) != 0 {
		t.Errorf("pid files written: %v", pids)
	}
	for _, name := range []string{"ixn-1", "chat-backup"} {
		ln, err := net.Listen("tcp", addrs[name]) // up released what it held
		if err != nil {
			t.Errorf("%s's address still held after up refused: %v", name, err)
			continue
		}
		ln.Close()
	}
	waitHealth(t, addrs["chat-1"], http.StatusOK, "ok")
	if other.ProcessState != nil || strings.Contains(otherOut.String(), "helper stopped") {
		t.Errorf("the other process was disturbed:\n%s", otherOut.String())
	}
}

func TestUpRemovesStalePIDFiles(t *testing.T) {
	dead := exec.Command(os.Args[0], "-test.run=^$")
	dead.Env = append(os.Environ(), noRaceExitDelay)
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(t.TempDir(), "run")
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"old.pid": strconv.Itoa(dead.Process.Pid), "junk.pid": "not a pid"} {
		if err := os.WriteFile(filepath.Join(runDir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := checkPIDFiles("data", runDir, []string{"old"}); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(runDir, "*.pid")); len(left) != 0 {
		t.Errorf("stale pid files left: %v", left)
	}
}

func TestUpSelectsApps(t *testing.T) {
	t.Parallel()
	r := startUp(t, nil, "--apps", "chat-backup")
	r.waitReady(t, "chat-backup")
	if code := r.stop(t); code != exitOK {
		t.Errorf("exit %d", code)
	}
	if out := r.out.String(); strings.Contains(out, "helper ixn-1") || strings.Contains(out, "helper chat-1") {
		t.Errorf("up started applications not in --apps:\n%s", out)
	}
}

func TestUpUnknownApp(t *testing.T) {
	code, _, errOut := runMain(t, "up", "--apps", "chat-1,nope")
	if code != exitFailure || !strings.Contains(errOut, `application "nope": no such application`) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestChildConfigFileEmbedded(t *testing.T) {
	dir := t.TempDir()
	path, err := childConfigFile("", dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, deploy.Embedded) || path != filepath.Join(dir, "embedded.yaml") {
		t.Errorf("%s: %v; content equal: %v", path, err, bytes.Equal(got, deploy.Embedded))
	}
}

func TestGroupsFollowStartOrder(t *testing.T) {
	apps := []*config.Application{
		{Name: "gms-1", Type: config.WebAPI}, {Name: "chat-2", Type: config.ChatServer},
		{Name: "ixn-1", Type: config.InteractionServer}, {Name: "chat-1", Type: config.ChatServer},
	}
	var got []string
	for _, g := range groups(apps) {
		var names []string
		for _, a := range g {
			names = append(names, a.Name)
		}
		got = append(got, strings.Join(names, ","))
	}
	if want := "ixn-1 chat-1,chat-2 gms-1"; strings.Join(got, " ") != want {
		t.Errorf("groups = %q, want %q", strings.Join(got, " "), want)
	}
}

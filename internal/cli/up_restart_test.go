package cli

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/service"
)

// pids returns every pid application name printed, in order.
func (r *upRun) pids(name string) []string {
	var out []string
	for _, m := range regexp.MustCompile(fmt.Sprintf(`(?m)^%shelper %s pid=(\d+)$`, regexp.QuoteMeta(r.prefix(name)), name)).FindAllStringSubmatch(r.out.String(), -1) {
		out = append(out, m[1])
	}
	return out
}

// TestUpRestartsKilledChild: a SIGKILLed child is reported and restarted
// after the first back-off delay, on the listener up handed its first
// child; its pid file names the new process; the others are untouched.
func TestUpRestartsKilledChild(t *testing.T) {
	t.Parallel()
	r := startUp(t, nil)
	r.waitReady(t, testApps...)
	old := r.helperPID(t, "chat-1")
	backup := r.helperPID(t, "chat-backup")
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r.waitOutput(t, "parley      | chat-1 exited unexpectedly: signal: killed\n")
	r.waitOutput(t, "parley      | chat-1 restarts in 50ms (restart 1 in a row)\n")
	eventually(t, "chat-1 ready again", func() bool { return strings.Count(r.out.String(), r.readyLine("chat-1", "chat-server")) == 2 })
	pids := r.pids("chat-1")
	if len(pids) != 2 {
		t.Fatalf("chat-1 pids %v, want 2", pids)
	}
	if got, err := readPID(r.pidFile("chat-1")); err != nil || fmt.Sprint(got) != pids[1] || got == old {
		t.Errorf("pid file of chat-1 after the restart: %d, %v; want %s", got, err, pids[1])
	}
	serves := fmt.Sprintf("chat-1      | helper chat-1 serves on %s inherited=true\n", r.addrs["chat-1"])
	if n := strings.Count(r.out.String(), serves); n != 2 {
		t.Errorf("%d children of chat-1 served on the listener up holds, want 2:\n%s", n, r.out.String())
	}
	waitHealth(t, r.addrs["chat-1"], http.StatusOK, "ok")
	if len(r.pids("chat-backup")) != 1 || !alive(backup) {
		t.Errorf("chat-backup disturbed by chat-1's restart")
	}
	if code := r.stop(t); code != exitFailure {
		t.Errorf("exit %d, want 1: chat-1 failed once", code)
	}
	if want := "parley: up: 1 of 3 applications failed: [chat-1]\n"; r.errOut.String() != want {
		t.Errorf("stderr %q, want %q", r.errOut.String(), want)
	}
	if !strings.Contains(r.out.String(), "parley      | chat-1 stopped: exit status 0\n") {
		t.Errorf("the restarted chat-1 was not stopped gracefully:\n%s", r.out.String())
	}
}

// TestUpBacksOffCrashLoop: a child that fails at once every time is
// restarted after delays that double up to the cap, and up says it keeps
// failing once the cap is reached.
func TestUpBacksOffCrashLoop(t *testing.T) {
	t.Parallel()
	r := startUp(t, []string{"HELPER_CRASH=chat-1"})
	r.waitReady(t, "ixn-1", "chat-backup")
	r.waitOutput(t, "parley      | chat-1 restarts in 200ms (restart 5 in a row)\n")
	out := r.out.String()
	at := -1
	for _, want := range []string{
		"chat-1 restarts in 50ms (restart 1 in a row)\n",
		"chat-1 restarts in 100ms (restart 2 in a row)\n",
		"chat-1 keeps failing (3 times in a row): restarting it every 200ms\n",
		"chat-1 restarts in 200ms (restart 3 in a row)\n",
		"chat-1 restarts in 200ms (restart 4 in a row)\n",
	} {
		i := strings.Index(out, "parley      | "+want)
		if i < at {
			t.Errorf("output lacks %q after the lines before:\n%s", want, out)
		}
		at = i
	}
	if n := strings.Count(out, "keeps failing"); n != 1 {
		t.Errorf("%d 'keeps failing' lines, want 1", n)
	}
	if code := r.stop(t); code != exitFailure || r.errOut.String() != "parley: up: 1 of 3 applications failed: [chat-1]\n" {
		t.Errorf("exit %d, stderr %q", code, r.errOut.String())
	}
}

// TestUpDoesNotRestartCleanExit: a child that exits with status 0 on its
// own (a SIGTERM sent to it, not to up) was stopped on purpose: it stays
// stopped.
func TestUpDoesNotRestartCleanExit(t *testing.T) {
	t.Parallel()
	r := startUp(t, nil)
	r.waitReady(t, testApps...)
	if err := syscall.Kill(r.helperPID(t, "chat-1"), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r.waitOutput(t, "parley      | chat-1 exited unexpectedly: exit status 0\n")
	r.waitReady(t, "chat-backup")
	if code := r.stop(t); code != exitOK {
		t.Errorf("exit %d, stderr %q", code, r.errOut.String())
	}
	if strings.Contains(r.out.String(), "chat-1 restarts") {
		t.Errorf("chat-1 restarted after a clean exit:\n%s", r.out.String())
	}
}

// TestRefuseResetsUntilStopped: while an application is down, connections
// to its address fail at once; once refusing stops, they queue for the
// next child on the same listener.
func TestRefuseResetsUntilStopped(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// As up does: hand it to a child (exec's File.Fd puts it in blocking mode).
	f, err := service.ListenerFile(ln)
	if err != nil {
		t.Fatal(err)
	}
	f.Fd()
	f.Close()
	stop := refuse(appListeners{main: ln})
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err == nil {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, io.EOF) {
		t.Errorf("a connection while refusing: %v, want it reset", err)
	}
	stop()
	conn, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
	got, err := ln.Accept()
	if err != nil {
		t.Fatalf("the listener does not accept once refusing stopped: %v", err)
	}
	got.Close()
}

// TestUpAppsNextToAnotherUp: one up runs ixn-1 and chat-1; a second up on
// the same deployment and data-dir starts chat-backup alone, and refuses
// chat-1, which the first one runs (its pid file says so). Stopping the
// second leaves the first's children and pid files alone.
func TestUpAppsNextToAnotherUp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	held, addrs := holdListeners(t, testApps...)
	dataDir := filepath.Join(dir, "data")
	file := filepath.Join(dir, "parley.yaml")
	if err := os.WriteFile(file, []byte(testDeployment(dataDir, addrs["ixn-1"], addrs["chat-1"], addrs["chat-backup"])), 0o644); err != nil {
		t.Fatal(err)
	}
	first := runUp(t, file, dataDir, addrs, held.take("ixn-1", "chat-1"), nil, "--apps", "ixn-1,chat-1")
	first.waitReady(t, "ixn-1", "chat-1")
	chat1 := first.helperPID(t, "chat-1")

	var out, errOut syncBuffer
	c := &cli{stdout: &out, stderr: &errOut, command: helperCommand(), inherit: func() (map[string]net.Listener, error) { return nil, nil }}
	code := c.main(t.Context(), []string{"up", "--config", file, "--apps", "chat-1"})
	want := fmt.Sprintf("parley: data-dir in use: %s: %s names running process %d (is another 'parley up' running chat-1?)", dataDir, first.pidFile("chat-1"), chat1)
	if code != exitFailure || !strings.HasPrefix(errOut.String(), want) {
		t.Errorf("up --apps chat-1 next to the up running it: exit %d, stderr %q; want 1 and %q", code, errOut.String(), want)
	}

	second := runUp(t, file, dataDir, addrs, held.take("chat-backup"), nil, "--apps", "chat-backup")
	second.waitReady(t, "chat-backup")
	backup := second.helperPID(t, "chat-backup")
	if code := second.stop(t); code != exitOK {
		t.Errorf("second up: exit %d, stderr %q", code, second.errOut.String())
	}
	if alive(backup) {
		t.Errorf("chat-backup (pid %d) still runs", backup)
	}
	for _, name := range []string{"ixn-1", "chat-1"} {
		pid := first.helperPID(t, name) // checks its pid file too
		if !alive(pid) {
			t.Errorf("%s of the first up (pid %d) stopped", name, pid)
		}
	}
	if strings.Contains(first.out.String(), "exited") {
		t.Errorf("the first up saw a child exit:\n%s", first.out.String())
	}
}

// TestUpDoesNotWaitForBackup: with an interaction server pair, the backup
// answers /healthz 503 "backup" until the primary dies; up counts it ready
// once its partner serves, and starts the chat servers at once rather than
// after the ready timeout (60 s).
func TestUpDoesNotWaitForBackup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	held, addrs := holdListeners(t, "ixn-1", "ixn-2", "chat-1")
	dataDir := filepath.Join(dir, "data")
	file := filepath.Join(dir, "parley.yaml")
	yaml := fmt.Sprintf(`data-dir: %s
databases:
  main: {driver: postgres, dsn: "postgres://nobody@127.0.0.1:1/none"}
applications:
  ixn-1: {type: interaction-server, listen: "%s", database: main}
  ixn-2: {type: interaction-server, listen: "%s", database: main}
  chat-1: {type: chat-server, listen: "%s", database: main, connections: [ixn-1, ixn-2]}
`, dataDir, addrs["ixn-1"], addrs["ixn-2"], addrs["chat-1"])
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runUp(t, file, dataDir, addrs, held.take(), []string{"HELPER_BACKUP=ixn-2"})
	r.waitReady(t, "ixn-1", "chat-1")
	if want := fmt.Sprintf("%sixn-2 (interaction-server) ready on http://%s as the backup of ixn-1\n", r.prefix("parley"), addrs["ixn-2"]); !strings.Contains(r.out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, r.out.String())
	}
}

package cli

import (
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// TestUpRestartsChatServer: the real binary's up restarts a SIGKILLed chat
// server after a second, on the listener it handed the first one (the new
// `parley run` serves it as inherited), and its pid file names the new
// process.
func TestUpRestartsChatServer(t *testing.T) {
	dir := t.TempDir()
	c := newCluster(t, dir, "chat-1")
	c.restart = true
	c.launch(dir, fmt.Sprintf(`data-dir: %s
databases: {main: {driver: sqlite, dsn: parley.db}}
applications:
  chat-1: {type: chat-server, listen: "%s", database: main}
`, c.dataDir, c.addrs["chat-1"]), "chat-1")
	pidFile := filepath.Join(c.dataDir, "run", "chat-1.pid")
	old, err := readPID(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	c.signal("chat-1", syscall.SIGKILL)
	waitFor(t, c.out, "chat-1 exited unexpectedly: signal: killed\n")
	waitFor(t, c.out, "chat-1 restarts in 1s (restart 1 in a row)\n")
	ready := ") ready on " + c.url("chat-1", "http", "") + "\n"
	eventually(t, "chat-1 ready again", func() bool { return strings.Count(c.out.String(), ready) == 2 })
	inherited := regexp.MustCompile(`msg=starting app=chat-1 .* inherited=true\n`)
	if n := len(inherited.FindAllString(c.out.String(), -1)); n != 2 {
		t.Errorf("%d chat-1 processes served the listener up holds, want 2", n)
	}
	if pid, err := readPID(pidFile); err != nil || pid == old || !alive(pid) {
		t.Errorf("pid file after the restart: %d, %v; the killed one was %d", pid, err, old)
	}
	waitHealth(t, c.addrs["chat-1"], http.StatusOK, "ok")
}

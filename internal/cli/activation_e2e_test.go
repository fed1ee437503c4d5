package cli

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testenv"
)

// TestSystemdSocketActivation runs the real binary under systemd's own
// socket activator (systemd-socket-activate, what parley@.socket does):
// it binds the chat server's address and passes it as the descriptor named
// chat-1, with LISTEN_PID set, when the first connection comes. run serves
// /healthz on it, says it inherited it, and stops on SIGTERM with status 0.
func TestSystemdSocketActivation(t *testing.T) {
	activate := testenv.NeedCommand(t, "systemd-socket-activate")
	bin := buildParley(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	file := filepath.Join(dir, "parley.yaml")
	deployment := fmt.Sprintf("data-dir: %s\ndatabases: {main: {driver: sqlite, dsn: parley.db}}\n"+
		"applications:\n  chat-1: {type: chat-server, listen: '%s', database: main}\n", dir, addr)
	if err := os.WriteFile(file, []byte(deployment), 0o600); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd := exec.Command(activate, "--listen", addr, "--fdname", "chat-1", bin, "run", "--config", file, "--app", "chat-1")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	eventually(t, "the activator listening on "+addr, func() bool { return strings.Contains(out.String(), "Listening on") })
	client := http.Client{Timeout: 10 * time.Second}
	eventually(t, "/healthz on the activated listener", func() bool {
		resp, err := client.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if !strings.Contains(out.String(), "inherited=true") {
		t.Errorf("run did not serve on the inherited listener:\n%s", out.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err // for the cleanup
		if err != nil {
			t.Errorf("after SIGTERM: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("run did not stop on SIGTERM:\n%s", out.String())
	}
}

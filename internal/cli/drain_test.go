package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDrain runs a chat server in this process and drains it as the Helm
// chart's preStop hook does: it is disabled (its /status says it accepts
// no chat) and, holding none, drained at once; drain --enable, the
// postStart hook, makes it accept chats again.
func TestDrain(t *testing.T) {
	dir := t.TempDir()
	held, addrs := holdListeners(t, "chat-1", "chat-1/admin")
	file := filepath.Join(dir, "parley.yaml")
	deployment := fmt.Sprintf("data-dir: %s\ndatabases: {main: {driver: sqlite, dsn: parley.db}}\n"+
		"applications:\n  chat-1: {type: chat-server, listen: '%s', admin-listen: '%s', database: main}\n",
		dir, addrs["chat-1"], addrs["chat-1/admin"])
	if err := os.WriteFile(file, []byte(deployment), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut syncBuffer
	c := &cli{stdout: &out, stderr: &errOut, inherit: func() (map[string]net.Listener, error) { return held.take(), nil }}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() { done <- c.main(ctx, []string{"run", "--config", file, "--app", "chat-1"}) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("run did not stop")
		}
	})
	accepting := func() bool {
		resp, err := http.Get("http://" + addrs["chat-1/admin"] + "/status")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var st struct{ Accepting bool }
		return json.NewDecoder(resp.Body).Decode(&st) == nil && st.Accepting
	}
	eventually(t, "chat-1 accepting chats", accepting)

	code, stdout, stderr := runMain(t, "drain", "--config", file, "--app", "chat-1", "--wait", "10s")
	if code != exitOK || !strings.Contains(stdout, "chat-1: disabled") || !strings.Contains(stdout, "chat-1: drained") {
		t.Fatalf("drain: exit %d\n%s%s", code, stdout, stderr)
	}
	if accepting() {
		t.Error("chat-1 accepts chats after drain")
	}
	code, stdout, stderr = runMain(t, "drain", "--config", file, "--app", "chat-1", "--enable", "--wait", "10s")
	if code != exitOK || !strings.Contains(stdout, "chat-1: enabled") || !accepting() {
		t.Errorf("drain --enable: exit %d, accepting %t\n%s%s", code, accepting(), stdout, stderr)
	}
}

// TestDrainRefuses checks drain's refusals: not a chat server, and a chat
// server that does not answer within --wait.
func TestDrainRefuses(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "parley.yaml")
	deployment := fmt.Sprintf("data-dir: %s\ndatabases: {main: {driver: sqlite, dsn: parley.db}}\napplications:\n"+
		"  chat-1: {type: chat-server, listen: '127.0.0.1:1', database: main}\n  gms-1: {type: web-api, listen: '127.0.0.1:2'}\n", dir)
	if err := os.WriteFile(file, []byte(deployment), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runMain(t, "drain", "--config", file, "--app", "gms-1")
	if code != exitFailure || !strings.Contains(stderr, `application "gms-1" is a web-api, not a chat-server`) {
		t.Errorf("web-api: exit %d, %q", code, stderr)
	}
	code, _, stderr = runMain(t, "drain", "--config", file, "--app", "chat-1", "--wait", "2s")
	if code != exitFailure || !strings.Contains(stderr, "drain: chat-1: ") {
		t.Errorf("no server: exit %d, %q", code, stderr)
	}
}

package bayeux

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testenv"
)

// jsDir holds the conformance client and its pinned npm packages.
const jsDir = "testdata/cometd-js"

// jsResult is the line the conformance client prints.
type jsResult struct {
	Transport    string   `json:"transport"`
	Handshake    bool     `json:"handshake"`
	Subscribed   bool     `json:"subscribed"`
	Published    bool     `json:"published"`
	Echo         *string  `json:"echo"`
	Push         *string  `json:"push"`
	Disconnected bool     `json:"disconnected"`
	Errors       []string `json:"errors"`
}

// TestOfficialClient runs the official CometD JavaScript client (npm cometd
// with cometd-nodejs-client) against the server on each transport: echo
// through a ServiceFunc, a later server push, and disconnect.
func TestOfficialClient(t *testing.T) {
	node := requireNode(t)
	var pushes sync.WaitGroup
	defer pushes.Wait()
	done := make(chan struct{})
	defer close(done)
	ts := startServer(t, Options{Timeout: 5 * time.Second}, func(s *Server) {
		s.HandleService("/service/echo", func(_ context.Context, c *Client, ch string, data json.RawMessage) error {
			var in struct{ Op, Text string }
			if err := json.Unmarshal(data, &in); err != nil || in.Op != "echo" {
				return &Error{Code: 400, Message: "bad operation"}
			}
			pushes.Go(func() { pushLater(c, ch, done) })
			return c.Deliver(ch, map[string]string{"echo": in.Text})
		})
	})
	transports(t, func(t *testing.T, tr string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "client.mjs", ts.url, tr, "hello "+tr)
		cmd.Dir = jsDir
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		var res jsResult
		if jerr := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil || jerr != nil {
			t.Fatalf("client: %v %v\nstdout: %s\nstderr: %s", err, jerr, stdout.String(), stderr.String())
		}
		t.Logf("client results: %s", lines[len(lines)-1])
		if res.Transport != tr || !res.Handshake || !res.Subscribed || !res.Published || !res.Disconnected || len(res.Errors) > 0 {
			t.Errorf("client results %+v\nstderr: %s", res, stderr.String())
		}
		if res.Echo == nil || *res.Echo != "hello "+tr || res.Push == nil || *res.Push != "later" {
			t.Errorf("echo %v, push %v", res.Echo, res.Push)
		}
	})
}

// pushLater delivers {push:"later"} to c a moment after the echo, once its
// next connect is held: a delivery the client did not ask for.
func pushLater(c *Client, channel string, done <-chan struct{}) {
	t := time.NewTimer(200 * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		_ = c.Deliver(channel, map[string]string{"push": "later"})
	case <-done:
	}
}

// requireNode returns the path of node after installing the pinned npm
// packages, or skips the test when Node is absent (fails under
// PARLEY_REQUIRE_ALL=1).
func requireNode(t *testing.T) string {
	t.Helper()
	node := testenv.NeedCommand(t, "node")
	npm := testenv.NeedCommand(t, "npm")
	if !installed() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		args := []string{"ci", "--no-audit", "--no-fund"}
		if _, err := os.Stat(filepath.Join(jsDir, "package-lock.json")); err != nil {
			args[0] = "install" // first run: writes the lock file to commit
		}
		cmd := exec.CommandContext(ctx, npm, args...)
		cmd.Dir = jsDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm %s: %v\n%s", args[0], err, out)
		}
	}
	return node
}

// installed reports whether node_modules is at least as new as the lock file.
func installed() bool {
	lock, err := os.Stat(filepath.Join(jsDir, "package-lock.json"))
	if err != nil {
		return false
	}
	mods, err := os.Stat(filepath.Join(jsDir, "node_modules", ".package-lock.json"))
	return err == nil && !mods.ModTime().Before(lock.ModTime())
}

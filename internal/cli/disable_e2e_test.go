package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestDisabledInDeploymentFile: a chat server disabled in the deployment
// file takes no new chats; SIGHUP applies the key as the file changes, and
// a restarted process (kill -9, up restarts it) is disabled still, the
// file saying so.
func TestDisabledInDeploymentFile(t *testing.T) {
	dir := t.TempDir()
	c := newCluster(t, dir, "chat-1")
	c.restart = true
	deployment := func(disabled bool) string {
		return fmt.Sprintf(`data-dir: %s
databases: {main: {driver: sqlite, dsn: parley.db}}
applications:
  chat-1: {type: chat-server, listen: "%s", database: main, disabled: %t}
`, c.dataDir, c.addrs["chat-1"], disabled)
	}
	type status struct {
		Incarnation string   `json:"incarnation"`
		Accepting   bool     `json:"accepting"`
		DisabledBy  []string `json:"disabled_by"`
	}
	read := func() (st status) {
		resp, err := peerAs(t, c.dataDir, "admin").adminGet("http://" + c.addrs["chat-1"] + "/status")
		if err != nil {
			return status{}
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(&st)
		return st
	}
	disabled := func(st status) bool { return !st.Accepting && strings.Join(st.DisabledBy, ",") == "deployment" }
	hangup := func(disabled bool) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "parley.yaml"), []byte(deployment(disabled)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := c.up.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}

	c.launch(dir, deployment(true), "chat-1")
	first := read()
	if !disabled(first) {
		t.Fatalf("status at start with disabled: true = %+v", first)
	}
	waitFor(t, c.out, `level=WARN msg="chat server disabled by the deployment file (disabled: true): it takes no new chats" app=chat-1 event=59901`)
	hangup(false)
	eventually(t, "chat-1 accepting after SIGHUP with disabled: false", func() bool { st := read(); return st.Accepting && st.DisabledBy == nil })
	waitFor(t, c.out, `msg="chat server enabled by the deployment file (disabled: false)" app=chat-1 event=59902`)
	hangup(true)
	eventually(t, "chat-1 disabled after SIGHUP with disabled: true", func() bool { return disabled(read()) })

	c.signal("chat-1", syscall.SIGKILL)
	eventually(t, "chat-1 restarted, disabled", func() bool {
		st := read()
		return st.Incarnation != "" && st.Incarnation != first.Incarnation && disabled(st)
	})
}

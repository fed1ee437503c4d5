package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestHangupReloadsOptions: SIGHUP to `parley up` reaches its chat server,
// which takes new options at run time, names an option that needs a
// restart, and refuses an invalid file while keeping its options.
func TestHangupReloadsOptions(t *testing.T) {
	dir := t.TempDir()
	c := newCluster(t, dir, "chat-1")
	deployment := func(options string) string {
		return fmt.Sprintf(`data-dir: %s
databases: {main: {driver: sqlite, dsn: parley.db}}
applications:
  chat-1: {type: chat-server, listen: "%s", database: main, options: {%s}}
`, c.dataDir, c.addrs["chat-1"], options)
	}
	c.launch(dir, deployment("settings: {limit-for-sessions: 1000}"), "chat-1")
	limit := func() int {
		resp, err := peerAs(t, c.dataDir, "admin").adminGet("http://" + c.addrs["chat-1"] + "/status")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st struct {
			Limit int `json:"limit_for_sessions"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return st.Limit
	}
	hangup := func(options string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "parley.yaml"), []byte(deployment(options)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := c.up.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}

	hangup("settings: {limit-for-sessions: 7, max-message-size: 2048}")
	eventually(t, "limit-for-sessions 7 in force", func() bool { return limit() == 7 })
	waitFor(t, c.out, `level=WARN msg="option changed; it applies after a restart" app=chat-1 option="[settings] max-message-size"`)

	hangup("settings: {limit-for-sessions: 9}, inactivity-control: {timeout-alert: 0}")
	waitFor(t, c.out, `level=ERROR msg="deployment file refused; the running options stay" app=chat-1 err=`)
	waitFor(t, c.out, `[inactivity-control] timeout-alert = 0: out of range 1-86400"`)
	if got := limit(); got != 7 {
		t.Errorf("limit-for-sessions = %d after an invalid file, want 7 still", got)
	}
}

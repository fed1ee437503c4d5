package cli

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunLogFormat checks that --log-format json writes JSON lines to
// stdout, each naming the application, and that text stays on stderr.
func TestRunLogFormat(t *testing.T) {
	var out, errOut bytes.Buffer
	c := &cli{stdout: &out, stderr: &errOut}
	c.runLogger("json", "chat-1", slog.LevelInfo).Info("starting", "listen", "0.0.0.0:7021")
	var rec map[string]any
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil || errOut.Len() != 0 {
		t.Fatalf("json: stdout %q (%v), stderr %q", out.String(), err, errOut.String())
	}
	if rec["app"] != "chat-1" || rec["msg"] != "starting" || rec["level"] != "INFO" || rec["listen"] != "0.0.0.0:7021" {
		t.Errorf("record %v", rec)
	}
	out.Reset()
	c.runLogger("text", "chat-1", slog.LevelInfo).Info("starting")
	if out.Len() != 0 || !strings.Contains(errOut.String(), "msg=starting app=chat-1") {
		t.Errorf("text: stdout %q, stderr %q", out.String(), errOut.String())
	}
}

// TestRunRefuses checks run's start-up refusals: an unknown log format is a
// usage error, and a dsn-env whose variable is unset names it.
func TestRunRefuses(t *testing.T) {
	code, _, errOut := runMain(t, "run", "--app", "x", "--log-format", "xml")
	if code != exitUsage || !strings.Contains(errOut, `--log-format "xml": want text or json`) {
		t.Errorf("xml: exit %d, %q", code, errOut)
	}
	file := filepath.Join(t.TempDir(), "d.yaml")
	const d = "databases: {main: {driver: postgres, dsn-env: PARLEY_TEST_UNSET_DSN}}\n" +
		"applications: {ixn-1: {type: interaction-server, listen: '127.0.0.1:7010', database: main}}\n"
	if err := os.WriteFile(file, []byte(d), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runMain(t, "run", "--config", file, "--app", "ixn-1")
	if code != exitFailure || !strings.Contains(errOut, "dsn-env: the environment variable PARLEY_TEST_UNSET_DSN is not set") {
		t.Errorf("dsn-env: exit %d, %q", code, errOut)
	}
}

package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/bench"
)

// TestBenchSpawnQuick runs the real binary's `parley bench --spawn --quick`
// and checks its result file: every message acknowledged was delivered once,
// and the file holds the figures the report reads. It asserts no speed.
func TestBenchSpawnQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a deployment")
	}
	bin := buildParley(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "quick.json")
	cmd := exec.Command(bin, "bench", "--spawn", "--quick", "--data-dir", filepath.Join(dir, "deploy"), "--out", out)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("parley bench: %v\n%s", err, b)
	}
	res, err := bench.ReadResult(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Steps) != 1 {
		t.Fatalf("%d steps, want 1", len(res.Steps))
	}
	s := res.Steps[0]
	if s.Lost != 0 || s.Duplicated != 0 || s.Errors != 0 {
		t.Errorf("lost %d, duplicated %d, errors %d %v, want none", s.Lost, s.Duplicated, s.Errors, s.ErrorSamples)
	}
	if s.MessagesSent == 0 || s.MessagesReceived == 0 || s.Latency.Count != s.MessagesReceived {
		t.Errorf("sent %d, received %d, latencies %d", s.MessagesSent, s.MessagesReceived, s.Latency.Count)
	}
	if s.Sessions != 20 || s.Dormant != 10 || s.DormantOpen != 10 || !res.Setup.Spawned || res.Setup.Store != "SQLite" {
		t.Errorf("step %+v setup %+v", s, res.Setup)
	}
	checkProcesses(t, s)
	checkReport(t, bin, out)
}

// checkProcesses wants CPU and memory figures for both applications and the
// generator.
func checkProcesses(t *testing.T, s bench.Step) {
	t.Helper()
	roles := map[string]bool{}
	for _, p := range s.Processes {
		roles[p.Role] = p.PID > 0 && p.PeakRSSBytes > 0 && p.CPUSeconds >= 0
	}
	for _, r := range []string{"chat-server", "web-api", "bench"} {
		if !roles[r] {
			t.Errorf("no figures for the %s process: %+v", r, s.Processes)
		}
	}
	if s.PerMessage == nil || s.PerMessage.ChatServerCPUMicros == nil || s.PerMessage.WebAPICPUMicros == nil {
		t.Errorf("per-message CPU missing: %+v", s.PerMessage)
	}
}

// checkReport turns the result into the table and the plot.
func checkReport(t *testing.T, bin, result string) {
	t.Helper()
	svg := filepath.Join(t.TempDir(), "plot.svg")
	b, err := exec.Command(bin, "bench", "report", "--svg", svg, result).CombinedOutput()
	if err != nil {
		t.Fatalf("parley bench report: %v\n%s", err, b)
	}
	if !strings.Contains(string(b), "| parley `quick` | rest | SQLite | 20 | 10 |") || !strings.Contains(string(b), "seed (Genesys") {
		t.Errorf("report:\n%s", b)
	}
	plot, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(plot), "<svg") || !strings.Contains(string(plot), "<polyline") || !strings.HasSuffix(string(plot), "</svg>\n") {
		t.Errorf("plot is not an SVG: %.80s", plot)
	}
}

func TestBenchUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"bench"}, // neither --target nor --spawn
		{"bench", "--spawn", "--target", "http://127.0.0.1:1"},
		{"bench", "--spawn", "--transport", "carrier-pigeon"},
		{"bench", "--target", "http://127.0.0.1:1", "--chat-servers", "chat-1"},
		{"bench", "report"},
	} {
		if code, _, stderr := runMain(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, stderr)
		}
	}
}

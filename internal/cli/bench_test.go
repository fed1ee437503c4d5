package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/bench"
	"github.com/parley-chat/parley/internal/testenv"
)

// TestBenchSpawnQuick runs the real binary's `parley bench --spawn --quick`
// over REST and over the chat server's wire side, and checks its result
// file: every message acknowledged was delivered once, and the file holds
// the figures the report reads. It asserts no speed.
func TestBenchSpawnQuick(t *testing.T) {
	testenv.NeedLong(t, "starts a deployment")
	bin := buildParley(t)
	for _, tc := range []struct {
		transport bench.Transport
		roles     []string // the processes measured
	}{
		{bench.REST, []string{"chat-server", "web-api", "bench"}},
		{bench.Wire, []string{"chat-server", "bench"}}, // no web API
	} {
		t.Run(string(tc.transport), func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "quick.json")
			cmd := exec.Command(bin, "bench", "--spawn", "--quick", "--transport", string(tc.transport),
				"--data-dir", filepath.Join(dir, "deploy"), "--out", out)
			b, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("parley bench: %v\n%s", err, b)
			}
			if !strings.Contains(string(b), "measured: "+tc.transport.Measures()) {
				t.Errorf("output does not say what was measured:\n%s", b)
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
			if s.MessagesSent == 0 || s.MessagesReceived == 0 || s.Latency.Count != s.MessagesReceived ||
				s.ToCustomer.Count == 0 || s.ToAgent.Count == 0 || s.Requests.Count == 0 {
				t.Errorf("sent %d, received %d, latencies %d (to customers %d, to agents %d), requests %d", s.MessagesSent,
					s.MessagesReceived, s.Latency.Count, s.ToCustomer.Count, s.ToAgent.Count, s.Requests.Count)
			}
			if s.Sessions != 20 || s.Dormant != 10 || s.DormantOpen != 10 || !res.Setup.Spawned ||
				res.Setup.Store != "SQLite" || res.Setup.Transport != tc.transport {
				t.Errorf("step %+v setup %+v", s, res.Setup)
			}
			checkProcesses(t, s, tc.roles)
			checkReport(t, bin, out, tc.transport)
		})
	}
}

// checkProcesses wants CPU and memory figures for exactly the processes of
// roles, and per-message CPU for each application role among them.
func checkProcesses(t *testing.T, s bench.Step, roles []string) {
	t.Helper()
	got := map[string]bool{}
	for _, p := range s.Processes {
		got[p.Role] = p.PID > 0 && p.PeakRSSBytes > 0 && p.CPUSeconds >= 0
	}
	for _, r := range roles {
		if !got[r] {
			t.Errorf("no figures for the %s process: %+v", r, s.Processes)
		}
	}
	if len(s.Processes) != len(roles) {
		t.Errorf("processes %+v, want one each of %v", s.Processes, roles)
	}
	pm := s.PerMessage
	if pm == nil || pm.ChatServerCPUMicros == nil || (pm.WebAPICPUMicros != nil) != slices.Contains(roles, "web-api") {
		t.Errorf("per-message CPU: %+v", pm)
	}
}

// checkReport turns the result of a run over transport into the table and
// the plot.
func checkReport(t *testing.T, bin, result string, transport bench.Transport) {
	t.Helper()
	svg := filepath.Join(t.TempDir(), "plot.svg")
	b, err := exec.Command(bin, "bench", "report", "--svg", svg, result).CombinedOutput()
	if err != nil {
		t.Fatalf("parley bench report: %v\n%s", err, b)
	}
	row := fmt.Sprintf("| parley `quick` | %s | SQLite | 20 | 10 |", transport)
	note := strings.Contains(string(b), "Transport `wire`: the chat server alone")
	if !strings.Contains(string(b), row) || !strings.Contains(string(b), "seed (Genesys") || note != (transport == bench.Wire) {
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
		{"bench", "--transport", "wire"}, // neither the chat servers nor --spawn
		{"bench", "--transport", "wire", "--spawn", "--chat-servers", "chat-1=127.0.0.1:1"},
		{"bench", "--transport", "wire", "--target", "http://127.0.0.1:1", "--chat-servers", "chat-1=127.0.0.1:1"},
		{"bench", "--transport", "wire", "--chat-servers", "chat-1=127.0.0.1:1", "--customers-per-conn", "-1"},
		{"bench", "report"},
	} {
		if code, _, stderr := runMain(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, stderr)
		}
	}
}

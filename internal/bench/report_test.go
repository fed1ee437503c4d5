package bench

import (
	"strings"
	"testing"
)

func TestReportAndPlot(t *testing.T) {
	cpu := 12.6
	r := Result{Setup: Setup{Transport: WebSocket, Store: "SQLite"}, Capacity: 300, Steps: []Step{
		{Sessions: 200, GateP99Ms: 3, Passed: true, MessagesPerSecond: 34,
			Processes:  []ProcessStat{{Process: Process{Role: "chat-server"}, CPUPercent: 20}},
			PerMessage: &PerMessage{ChatServerCPUMicros: &cpu}},
		{Sessions: 300, GateP99Ms: 5, Passed: true},
		{Sessions: 450, GateP99Ms: 1500, Errors: 2},
	}}
	table := Report([]Result{r}, []string{"ws"})
	for _, want := range []string{
		"| seed (Genesys, Xeon E7-8880L 2 GHz) | CometD | — | 900 | 38,100 |",
		"| parley `ws` | websocket | SQLite | 200 | 0 | 34 |",
		"| 20 | 13 | ≈ 1,000 | — |", // chat server CPU, µs per message, sessions per core; no web API figure
		"**pass: capacity**",
		"| 2 | 0 / 0 | fail |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	svg := string(Plot([]Result{r}, []string{"ws"}))
	if !strings.HasPrefix(svg, "<svg") || strings.Count(svg, "<polyline") != 2 || !strings.Contains(svg, ">ws</text>") {
		t.Errorf("plot:\n%s", svg)
	}
}

func TestNiceMaxAndShort(t *testing.T) {
	ss := []series{{y: []float64{3, 730}}}
	if m := niceMax(ss, func(s series) []float64 { return s.y }); m != 1000 {
		t.Errorf("niceMax = %v, want 1000", m)
	}
	for v, want := range map[float64]string{1500: "1.5k", 2e6: "2M", 12.25: "12.3"} {
		if got := short(v); got != want {
			t.Errorf("short(%v) = %q, want %q", v, got, want)
		}
	}
	if num(1234567) != "1,234,567" || num(12) != "12" {
		t.Errorf("num: %s %s", num(1234567), num(12))
	}
}

// TestReportWire says under the table that a wire row measures the chat
// server alone, and only when there is one.
func TestReportWire(t *testing.T) {
	step := []Step{{Sessions: 100}}
	ws := Result{Setup: Setup{Transport: WebSocket}, Steps: step}
	wire := Result{Setup: Setup{Transport: Wire}, Steps: step}
	note := "Transport `wire`: " + Wire.Measures()
	if table := Report([]Result{ws}, []string{"ws"}); strings.Contains(table, note) {
		t.Errorf("a table without wire rows has the note:\n%s", table)
	}
	table := Report([]Result{ws, wire}, []string{"ws", "wire"})
	if !strings.Contains(table, "| parley `wire` | wire | ? | 100 |") || !strings.Contains(table, note) {
		t.Errorf("table:\n%s", table)
	}
}

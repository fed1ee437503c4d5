package bench

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// seedRow is one cell of the seed's sizing table (003, "Performance
// benchmarks"): Genesys Chat Server on an Intel Xeon E7-8880L 2 GHz, one
// core, with two GMS instances; 35 s sessions, 3 messages per party.
type seedRow struct {
	transport       string
	active, dormant int
}

var seedRows = []seedRow{
	{"short polling", 1000, 0}, {"short polling", 800, 7200}, {"short polling", 700, 34300},
	{"CometD", 1500, 0}, {"CometD", 1000, 10000}, {"CometD", 900, 38100},
}

// Report returns the markdown table of results, the seed's figures first;
// labels name each result (a file name, say).
func Report(results []Result, labels []string) string {
	var b strings.Builder
	b.WriteString("| source | transport | store | active | dormant | msg/s | p50 ms | p99 ms | gate p99 ms | chat server CPU (% of a core) | chat server µs/msg | active sessions per chat-server core (linear) | web API CPU (%) | web API µs/msg | generator CPU (%) | errors | lost / dup | verdict |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, s := range seedRows {
		fmt.Fprintf(&b, "| seed (Genesys, Xeon E7-8880L 2 GHz) | %s | — | %s | %s | — | — | — | — | ≈ 100 | — | %s | < 100 ×2 | — | — | — | — | the seed's sizing |\n",
			s.transport, num(s.active), num(s.dormant), seedPerCore(s))
	}
	wire := false
	for i, r := range results {
		for _, s := range r.Steps {
			b.WriteString(row(labels[i], r, s))
		}
		wire = wire || r.Setup.Transport == Wire
	}
	if wire {
		b.WriteString("\nTransport `wire`: " + Wire.Measures() + ". Its rows have no web API; the others measure the GMS path.\n")
	}
	b.WriteString(chaosTable(results, labels))
	return b.String()
}

// chaosTable is the table of the steps run with chat servers killed, or ""
// when there are none.
func chaosTable(results []Result, labels []string) string {
	var b strings.Builder
	for i, r := range results {
		for _, s := range r.Steps {
			c := s.Chaos
			if c == nil {
				continue
			}
			if b.Len() == 0 {
				b.WriteString("\n| source | transport | store | active | kills (every) | chats affected | agents rejoined | restore p50 ms | restore p99 ms | restore max ms | failed requests by cause | lost / dup | stuck | ghost | verdict |\n")
				b.WriteString("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|\n")
			}
			verdict := "fail"
			if s.Passed {
				verdict = "pass"
			}
			fmt.Fprintf(&b, "| parley `%s` | %s | %s | %s | %d (%gs) | %s | %s | %.0f | %.0f | %.0f | %s | %d / %d | %d | %d | %s |\n",
				labels[i], r.Setup.Transport, cmp.Or(r.Setup.Store, "?"), num(s.Sessions), c.Kills, c.EveryS, num(int(c.Affected)),
				num(int(c.Rejoins)), c.Restore.P50, c.Restore.P99, c.Restore.Max, causes(s.FailedByCause), s.Lost, s.Duplicated,
				c.Stuck, c.Ghost, verdict)
		}
	}
	return b.String()
}

// causes writes failures by cause as "send 8200: 3, agent-send transport: 1",
// in the order of their names.
func causes(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// row is one step's line of the table.
func row(label string, r Result, s Step) string {
	chat, web, gen := roleStat(s, "chat-server"), roleStat(s, "web-api"), roleStat(s, "bench")
	verdict := "fail"
	switch {
	case s.Passed && r.Capacity == s.Sessions:
		verdict = "**pass: capacity**"
	case s.Passed:
		verdict = "pass"
	}
	store := r.Setup.Store
	if store == "" {
		store = "?"
	}
	transport := string(r.Setup.Transport)
	if r.Setup.TLS {
		transport += " + TLS"
	}
	return fmt.Sprintf("| parley `%s` | %s | %s | %s | %s | %.0f | %.1f | %.1f | %.1f | %s | %s | %s | %s | %s | %s | %d | %d / %d | %s |\n",
		label, transport, store, num(s.Sessions), num(s.Dormant), s.MessagesPerSecond, s.Latency.P50,
		s.Latency.P99, s.GateP99Ms, chat, perMsg(s.PerMessage, "chat"), perCore(s), web, perMsg(s.PerMessage, "web"), gen,
		s.Errors, s.Lost, s.Duplicated, verdict)
}

// seedPerCore is the seed's all-active figure: it was one core's capacity.
func seedPerCore(s seedRow) string {
	if s.dormant > 0 {
		return "—"
	}
	return num(s.active)
}

// perCore projects a step's active sessions onto one whole chat-server
// core, in proportion to the CPU they used: what the chat server would carry
// if the other processes (web API, generator, sharing the other core here)
// kept up. It is linear, so an upper bound: latency grows near saturation.
func perCore(s Step) string {
	pct, ok := roleCPU(s, "chat-server")
	if !ok || pct <= 0 || s.Dormant > 0 {
		return "—"
	}
	sessions := int(float64(s.Sessions) * 100 / pct)
	return "≈ " + num(sessions/100*100) // to the hundred below
}

// roleStat returns the CPU percentage of a step's processes of role, or "—".
func roleStat(s Step, role string) string {
	if pct, ok := roleCPU(s, role); ok {
		return fmt.Sprintf("%.0f", pct)
	}
	return "—"
}

// roleCPU returns the CPU percentage of a step's processes of role, and
// false when none was measured.
func roleCPU(s Step, role string) (float64, bool) {
	var pct float64
	found := false
	for _, p := range s.Processes {
		if p.Role == role {
			pct += p.CPUPercent
			found = true
		}
	}
	return pct, found
}

func perMsg(pm *PerMessage, which string) string {
	if pm == nil {
		return "—"
	}
	v := pm.ChatServerCPUMicros
	if which == "web" {
		v = pm.WebAPICPUMicros
	}
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.0f", *v)
}

// num writes n with thousands separators.
func num(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

package ixnproxy_test

import (
	"net/http"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/wire"
)

// A proxy that stops leaves no goroutine behind: its node watchers, its
// clients' sessions and their legs, and every wire connection end with it.
func TestProxyStopsItsGoroutines(t *testing.T) {
	a, b := startNode(t, "node-a", nodeOptions(t, "")), startNode(t, "node-b", nodeOptions(t, ""))
	p := startProxy(t, a.node(), b.node())
	desk := register(t, p.addr, "desk/alice", "agent")
	desk.ok(wire.RequestAgentLogin, map[string]any{"agentId": "alice", "password": "alice"})
	rep := register(t, p.addr, "stats", "reporting")
	rep.ok(wire.RequestSubscribe, map[string]any{"topic": "reporting"})
	desk.conn.Close()
	rep.conn.Close()
	p.stop()
	http.DefaultClient.CloseIdleConnections()
	var dump string
	if !settle.Poll(10*time.Second, func() bool {
		dump = goroutines()
		return !strings.Contains(dump, "internal/ixn/ixnproxy.") && !strings.Contains(dump, "internal/wire.")
	}) {
		t.Fatalf("goroutines of the proxy or of wire connections left:\n%s", dump)
	}
}

// goroutines returns the stacks of the goroutines other than the caller's.
func goroutines() string {
	var buf strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
	var out []string
	for g := range strings.SplitSeq(buf.String(), "\n\n") {
		if !strings.Contains(g, "leak_test.go") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

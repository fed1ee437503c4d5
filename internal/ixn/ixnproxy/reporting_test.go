package ixnproxy_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/wire"
)

// reported returns the reporting events c received: per node, their ids in
// arrival order, and the position of the last one.
func reported(c *client) (map[string][]int64, string) {
	ids := map[string][]int64{}
	last := ""
	for _, e := range c.events("") {
		node, _ := e["node"].(string)
		id, _ := e["eventId"].(float64)
		if node == "" || id == 0 {
			continue
		}
		ids[node] = append(ids[node], int64(id))
		last, _ = e["position"].(string)
	}
	return ids, last
}

// The merged reporting stream carries every node's events with a
// position; a reporting client that comes back with its last position,
// on a new proxy, gets every event it missed, none twice.
func TestProxyReportingResumes(t *testing.T) {
	a, b := startNode(t, "node-a", nodeOptions(t, "")), startNode(t, "node-b", nodeOptions(t, ""))
	p1 := startProxy(t, a.node(), b.node())
	rep := register(t, p1.addr, "stats", "reporting")
	ack := rep.ok(wire.RequestSubscribe, map[string]any{"topic": "reporting"})
	if ack["position"] != "node-a=0,node-b=0" {
		t.Fatalf("subscription ack %v", ack)
	}
	rep.fails(wire.RequestSubscribe, map[string]any{"topic": "reporting"}, wire.CodeInProgress)
	rep.fails(wire.RequestSubscribe, map[string]any{"topic": "reporting", "position": "node-a"}, wire.CodeBadRequest)
	ms := register(t, p1.addr, "chat-1", "media-server")
	for i := range 4 {
		ms.ok(wire.RequestSubmit, map[string]any{"interactionId": fmt.Sprint("r", i), "queue": "ext"})
	}
	settle.Eventually(t, 5*time.Second, "8 reporting events", func() bool {
		ids, _ := reported(rep)
		return len(ids["node-a"])+len(ids["node-b"]) == 8
	})
	p1.stop()
	for _, n := range []*testNode{a, b} { // events while no proxy runs
		direct := register(t, n.addr, "chat-1", "media-server")
		direct.ok(wire.RequestSubmit, map[string]any{"interactionId": "late-" + n.name, "queue": "ext"})
	}
	_, pos := reported(rep)
	p2 := startProxy(t, a.node(), b.node())
	rep2 := register(t, p2.addr, "stats", "reporting")
	rep2.ok(wire.RequestSubscribe, map[string]any{"topic": "reporting", "position": pos})
	ms2 := register(t, p2.addr, "chat-1", "media-server")
	ms2.ok(wire.RequestSubmit, map[string]any{"interactionId": "after", "queue": "ext"})
	settle.Eventually(t, 5*time.Second, "the missed events and the new ones", func() bool {
		ids, _ := reported(rep2)
		return len(ids["node-a"])+len(ids["node-b"]) == 6
	})
	first, _ := reported(rep)
	second, _ := reported(rep2)
	for _, node := range []string{"node-a", "node-b"} {
		all := append(first[node], second[node]...)
		for i, id := range all {
			if id != int64(i+1) {
				t.Fatalf("%s: event ids %v, want 1..%d each once, in order", node, all, len(all))
			}
		}
	}
}

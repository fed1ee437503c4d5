package ixnproxy_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// BenchmarkFIFOAcrossNodes measures how far from first-in first-out a
// backlog is served: 20 interactions wait in one queue, then one agent
// (capacity 1) takes them one at a time, accepting each invitation as it
// comes and stopping the interaction. inversions/op is the share of pairs
// served in the opposite order of their submission (0: FIFO, 0.5: random).
// Directly on one interaction server it is 0; through a proxy over two
// nodes each node serves its own share in order, but the two shares
// interleave as the nodes invite, and the agent, whose capacity each node
// counts on its own, holds one interaction of each node at once.
//
//	go test -run '^$' -bench FIFOAcrossNodes -benchtime 3x ./internal/ixn/ixnproxy/
func BenchmarkFIFOAcrossNodes(b *testing.B) {
	opts := nodeOptions(b, "")
	opts.Agents["alice"].CapacityChat = 1
	b.Run("direct", func(b *testing.B) {
		n := startNode(b, "node-a", opts)
		measureFIFO(b, n.addr)
	})
	b.Run("proxy-2-nodes", func(b *testing.B) {
		a, c := startNode(b, "node-a", opts), startNode(b, "node-b", opts)
		p := startProxy(b, a.node(), c.node())
		measureFIFO(b, p.addr)
	})
}

// measureFIFO reports the mean share of inverted pairs over b.N backlogs.
func measureFIFO(b *testing.B, addr string) {
	sum := 0.0
	for range b.N {
		sum += serveBacklog(b, addr)
	}
	b.ReportMetric(sum/float64(b.N), "inversions/op")
}

// serveBacklog submits 20 interactions, has alice serve them, and returns
// the share of inverted pairs in the order she got them.
func serveBacklog(b *testing.B, addr string) float64 {
	const n = 20
	ms := register(b, addr, "chat-1", "media-server")
	order := map[string]int{}
	for i := range n {
		id := fmt.Sprintf("fifo-%d-%d", time.Now().UnixNano(), i)
		ms.ok(wire.RequestSubmit, map[string]any{"interactionId": id, "queue": "default"})
		order[id] = i
		time.Sleep(2 * time.Millisecond) // distinct submission times
	}
	desk := register(b, addr, "desk/alice", "agent")
	desk.ok(wire.RequestAgentLogin, map[string]any{"agentId": "alice", "password": "alice"})
	var served []int
	done := map[string]bool{}
	for len(served) < n {
		id := desk.invited(done)
		done[id] = true
		desk.ok(wire.RequestAccept, map[string]string{"interactionId": id})
		desk.ok(wire.RequestStopProcessing, map[string]string{"interactionId": id, "reason": "served"})
		served = append(served, order[id])
	}
	desk.ok(wire.RequestAgentLogout, map[string]any{})
	inverted := 0
	for i := range served {
		for j := i + 1; j < len(served); j++ {
			if served[i] > served[j] {
				inverted++
			}
		}
	}
	return float64(inverted) / float64(n*(n-1)/2)
}

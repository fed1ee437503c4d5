package ixnproxy_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// BenchmarkInteractions measures interactions per second (a RequestSubmit
// then a RequestStopProcessing, 16 media-server connections in parallel)
// on one interaction server directly, and through one proxy over two
// nodes, with the client's ids (a chat server's: placed by their hash)
// and with the ids the nodes make (round robin). Every node is on
// its own SQLite file: the figures compare the paths, not databases.
//
//	go test -run '^$' -bench Interactions -benchtime 3000x ./internal/ixn/ixnproxy/
func BenchmarkInteractions(b *testing.B) {
	opts := nodeOptions(b, "")
	b.Run("direct", func(b *testing.B) {
		n := startNode(b, "node-a", opts)
		runInteractions(b, n.addr, true)
	})
	for _, ids := range []bool{true, false} {
		b.Run(fmt.Sprintf("proxy-2-nodes/client-ids=%v", ids), func(b *testing.B) {
			a, c := startNode(b, "node-a", opts), startNode(b, "node-b", opts)
			p := startProxy(b, a.node(), c.node())
			runInteractions(b, p.addr, ids)
		})
	}
}

func runInteractions(b *testing.B, addr string, clientIDs bool) {
	const conns = 16
	clients := make(chan *client, conns)
	for i := range conns {
		clients <- register(b, addr, fmt.Sprint("chat-", i), "media-server")
	}
	var seq atomic.Int64
	b.SetParallelism(max(1, conns/runtime.GOMAXPROCS(0))) // RunParallel runs GOMAXPROCS times this many goroutines
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		c := <-clients
		defer func() { clients <- c }()
		for pb.Next() {
			body := map[string]any{"queue": "ext"}
			if clientIDs {
				body["interactionId"] = fmt.Sprint("b-", seq.Add(1))
			}
			r := c.ok(wire.RequestSubmit, body)
			c.ok(wire.RequestStopProcessing, map[string]any{"interactionId": r["interactionId"], "reason": "bench"})
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "interactions/s")
}

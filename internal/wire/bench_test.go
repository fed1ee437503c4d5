package wire

import (
	"context"
	"syscall"
	"testing"
	"time"
)

func BenchmarkRoundTrip(b *testing.B) {
	s := startServer(b, nil, Options{}, echo)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := Dial(ctx, s.wsURL(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Serve(ctx, ignore)
	}()
	defer func() { cancel(); <-done }()
	body := joinBody{SessionID: "0123456789abcdef", N: 1}
	b.ReportAllocs()
	b.SetParallelism(256) // many requests in flight, as on a chat server's connection to a web API
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		var reply joinBody
		for pb.Next() {
			if _, err := c.Request(ctx, RequestJoin, body, &reply); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	data := []byte(`{"name":"RequestMessage","ref":123456,"body":{"sessionId":"0001KaC3A6R5006K","userId":"00A65C2AD4720003","text":"Hello, I need help with my order"}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// reportCPU reports the process's CPU time (user and system) per op when the
// function it returns is called. With both ends of a connection in this
// process, it is what a message costs them together, which the wall time
// per op hides once writes wait to coalesce.
func reportCPU(b *testing.B) func() {
	start := cpuTime(b)
	return func() {
		b.ReportMetric(float64((cpuTime(b)-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBind binds a customer's message request, the body a chat server
// binds most, through Bind (its fast path) and through the strict decoder
// alone.
func BenchmarkBind(b *testing.B) {
	m := Message{Name: RequestMessage, Body: []byte(`{"sessionId":"0195F3A2B4C5D6E7F8","userId":"00FE1A2B3C4D5E6F",` +
		`"secureKey":"5f2b9c0e4a1d3b7c8e9f0a1b2c3d4e5f","text":"customer message 1 of a usual length, about forty bytes"}`)}
	b.Run("Bind", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var req bindReq
			if err := m.Bind(&req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("strict", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var req bindReq
			if err := bindStrict(m.Body, &req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

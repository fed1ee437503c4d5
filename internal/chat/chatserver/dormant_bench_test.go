package chatserver_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/wire"
)

// BenchmarkDormantSessions creates b.N async chats, each with a customer who
// then goes quiet, and reports the heap and goroutines they hold in the chat
// server. Run it with -benchtime=100000x for the figure in docs/benchmarks.md.
func BenchmarkDormantSessions(b *testing.B) {
	opts := defaultOptions(b)
	opts.Settings.LimitForSessions = 0
	h := start(b, opts, nil)
	conns := make([]*peer, 8)
	for i := range conns {
		conns[i] = h.dial(chatserver.FlexPath)
	}
	before := heapInUse()
	goroutines := runtime.NumGoroutine()
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := conns[w%len(conns)]
			for next.Add(1) <= int64(b.N) {
				if _, err := p.do(wire.RequestLogin, map[string]any{"nickname": "sleepy", "userData": map[string]string{"GCTI_Chat_AsyncMode": "true"}}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	after := heapInUse()
	if got := h.srv.KPI()["sessions_current"]; got != int64(b.N) {
		b.Fatalf("sessions_current = %d, want %d", got, b.N)
	}
	b.ReportMetric(float64(after-before)/float64(b.N), "heap-B/session")
	b.ReportMetric(float64(runtime.NumGoroutine()-goroutines), "goroutines-added")
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

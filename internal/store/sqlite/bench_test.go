package sqlite

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// BenchmarkAppend measures group-committed appends: many goroutines, each
// appending one event at a time to its own session. It runs with both
// synchronous settings to show what FULL costs over NORMAL.
func BenchmarkAppend(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		b.Run("sync="+sync, func(b *testing.B) {
			s := openBench(b, sync)
			b.SetParallelism(32) // 64 writers on 2 cores: far more than CPUs, as with live chats
			var next atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				id := fmt.Sprintf("s-%d", next.Add(1))
				benchCreate(b, s, id)
				for i := 1; pb.Next(); i++ {
					benchAppend(b, s, id, i)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkAppendSequential measures one writer alone: one commit per event.
func BenchmarkAppendSequential(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		b.Run("sync="+sync, func(b *testing.B) {
			s := openBench(b, sync)
			benchCreate(b, s, "s-1")
			b.ResetTimer()
			for i := 1; i <= b.N; i++ {
				benchAppend(b, s, "s-1", i)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func openBench(b *testing.B, sync string) *TranscriptStore {
	path := filepath.Join(b.TempDir(), "bench.db")
	return openDB(b, (&url.URL{Scheme: "file", Path: path}).String()+"?_synchronous="+sync).Transcripts()
}

func benchCreate(b *testing.B, s *TranscriptStore, id string) {
	if err := s.Create(context.Background(), transcript.Session{ID: id, Owner: "cs-1", Epoch: 1}); err != nil {
		b.Fatal(err)
	}
}

func benchAppend(b *testing.B, s *TranscriptStore, id string, i int) {
	ev := transcript.Event{Index: i, Type: transcript.Message, Time: time.Now(), PartyID: "u-1",
		Visibility: transcript.VisAll, Text: "a chat message of an ordinary length, about sixty bytes"}
	if err := s.Append(context.Background(), id, 1, []transcript.Event{ev}); err != nil {
		b.Fatal(err)
	}
}

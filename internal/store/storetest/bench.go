package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// BenchAppend measures group-committed appends to s: many goroutines, each
// appending one event at a time to its own session.
func BenchAppend(b *testing.B, s transcript.Store) {
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
}

// BenchAppendSequential measures one writer alone on s: one commit per event.
func BenchAppendSequential(b *testing.B, s transcript.Store) {
	benchCreate(b, s, "s-1")
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		benchAppend(b, s, "s-1", i)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func benchCreate(b *testing.B, s transcript.Store, id string) {
	if err := s.Create(context.Background(), transcript.Session{ID: id, Owner: "cs-1", Epoch: 1}); err != nil {
		b.Fatal(err)
	}
}

// benchAppend appends event i, a message of an ordinary length.
func benchAppend(b *testing.B, s transcript.Store, id string, i int) {
	ev := transcript.Event{Index: i, Type: transcript.Message, Time: time.Now(), PartyID: "u-1",
		Visibility: transcript.VisAll, Text: "a chat message of an ordinary length, about sixty bytes"}
	if err := s.Append(context.Background(), id, 1, []transcript.Event{ev}); err != nil {
		b.Fatal(err)
	}
}

package sqlite

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// TestWALCheckpointedBesideTheWriter checks that commits never checkpoint
// (wal_autocheckpoint is 0 on every connection) and that the DB's own
// checkpointer keeps the WAL from growing: rounds of appends, each after a
// pause longer than checkpointEvery, reuse the WAL from its start instead of
// adding to it, as they would with nobody checkpointing.
func TestWALCheckpointedBesideTheWriter(t *testing.T) {
	path := tempPath(t)
	db := openDB(t, path)
	ctx := context.Background()
	var auto int
	if err := db.sql.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("wal_autocheckpoint = %d (%v), want 0", auto, err)
	}
	ts := db.Transcripts()
	const id = "ckpt-1"
	if err := ts.Create(ctx, transcript.Session{ID: id, Owner: "chat-1", Epoch: 1, CreatedAt: time.UnixMilli(1)}); err != nil {
		t.Fatal(err)
	}
	index := 0
	round := func() int64 {
		for range 150 {
			index++
			ev := transcript.Event{Index: index, Type: transcript.Message, Time: time.UnixMilli(int64(index)),
				PartyID: "p", Visibility: transcript.VisAll, Text: "hello"}
			if err := ts.Append(ctx, id, 1, []transcript.Event{ev}); err != nil {
				t.Fatal(err)
			}
		}
		st, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	first := round()
	var last int64
	for range 4 {
		time.Sleep(5 * checkpointEvery) // lets the periodic checkpoint run; nothing to poll for
		last = round()
	}
	if last > 2*first {
		t.Errorf("the WAL grew from %d bytes after one round to %d after five: nothing checkpoints it", first, last)
	}
}

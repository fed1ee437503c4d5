package sqlite

import (
	"context"
	"fmt"
	"os"
	"sync"
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

// TestWALRestartsUnderContinuousLoad keeps the writer busy without a pause,
// so that the checkpoint beside it always trails by what was committed
// meanwhile. The WAL must still be reused from its start once it passes
// restartFrames: its file then stops growing after the first few
// checkpoints, where without the restart it grows with the load, 5 s of it
// making it about five times what 1 s made it.
func TestWALRestartsUnderContinuousLoad(t *testing.T) {
	saved := restartFrames
	t.Cleanup(func() { restartFrames = saved }) // after the DB's Close, which stops its checkpointer
	restartFrames = 256                         // 1 MiB
	path := tempPath(t)
	ts := openDB(t, path).Transcripts()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	for w := range 64 {
		id := fmt.Sprintf("load-%d", w)
		if err := ts.Create(ctx, transcript.Session{ID: id, Owner: "chat-1", Epoch: 1, CreatedAt: time.UnixMilli(1)}); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for i := 1; ctx.Err() == nil; i++ {
				ev := transcript.Event{Index: i, Type: transcript.Message, Time: time.UnixMilli(int64(i)),
					PartyID: "p", Visibility: transcript.VisAll, Text: "a chat message of an ordinary length, about sixty bytes"}
				if err := ts.Append(ctx, id, 1, []transcript.Event{ev}); err != nil && ctx.Err() == nil {
					t.Error(err)
					return
				}
			}
		})
	}
	walSize := func() int64 {
		st, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	time.Sleep(time.Second) // the load runs for a time; nothing to poll for
	early := walSize()
	time.Sleep(4 * time.Second)
	late := walSize()
	cancel()
	if late > 3*early {
		t.Errorf("the WAL grew from %d bytes after 1 s of continuous appends to %d after 5 s: it is not reused from its start", early, late)
	}
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store/storemigrate"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/transcript"
)

// TestUpgradeFromLastIndex opens a file that an older parley wrote, whose
// sessions still count their events in last_index: the live session's
// events survive the upgrade, and its appends go on from the last stored
// index, refusing one that is not above it.
func TestUpgradeFromLastIndex(t *testing.T) {
	path := tempPath(t)
	old, err := sql.Open("sqlite", mustConnString(t, path))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := storemigrate.Load(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	mustExec(t, old, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
	for _, m := range ms {
		if m.Version >= 4 {
			break
		}
		mustExec(t, old, m.SQL)
		mustExec(t, old, `INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.Version, m.Name)
	}
	mustExec(t, old, `INSERT INTO sessions (id, owner, epoch, created_at, last_index) VALUES ('live', 'cs-1', 1, 0, 2)`)
	for idx := 1; idx <= 2; idx++ {
		mustExec(t, old, `INSERT INTO events (session_id, idx, time_ms, data) VALUES ('live', ?1, ?1,
			json_object('index', ?1, 'type', 'Message', 'userId', 'p', 'visibility', 'ALL', 'text', 'before'))`, idx)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	s := openDB(t, path).Transcripts()
	msg := func(idx int) []transcript.Event {
		return []transcript.Event{{Index: idx, Type: transcript.Message, Time: time.UnixMilli(int64(idx)), PartyID: "p",
			Visibility: transcript.VisAll, Text: "after"}}
	}
	if err := s.Append(ctx, "live", 1, msg(2)); !errors.Is(err, transcript.ErrIndexConflict) {
		t.Errorf("append of index 2 after the upgrade: got %v, want ErrIndexConflict", err)
	}
	if err := s.Append(ctx, "live", 1, msg(3)); err != nil {
		t.Fatalf("append of index 3 after the upgrade: %v", err)
	}
	assertLoaded(ctx, t, s, "live", 3)
}

func mustConnString(t *testing.T, path string) string {
	t.Helper()
	uri, err := connString(path)
	if err != nil {
		t.Fatal(err)
	}
	return uri
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func assertLoaded(ctx context.Context, t *testing.T, s *TranscriptStore, id string, n int) {
	t.Helper()
	snap, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Events) != n {
		t.Fatalf("%s: %d events, want %d", id, len(snap.Events), n)
	}
	for i, e := range snap.Events {
		if e.Index != i+1 {
			t.Errorf("%s: event %d has index %d", id, i, e.Index)
		}
	}
}

// TestMigrationsAdditive holds the migrations since the previous release
// (its last one, 0006; move it forward at each release) to what a rolling
// upgrade needs.
func TestMigrationsAdditive(t *testing.T) { storetest.MigrationsAdditive(t, migrations, 6) }

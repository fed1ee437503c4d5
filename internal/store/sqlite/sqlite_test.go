package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/transcript"
)

// openDB opens a database in a fresh file and closes it when the test ends.
func openDB(t testing.TB, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func tempPath(t testing.TB) string { return filepath.Join(t.TempDir(), "sub", "parley.db") }

func TestTranscriptStore(t *testing.T) {
	storetest.TestTranscriptStore(t, func(t *testing.T) transcript.Store {
		return openDB(t, tempPath(t)).Transcripts()
	})
}

func TestContactStore(t *testing.T) {
	storetest.TestContactStore(t, func(t *testing.T) contact.Store {
		return openDB(t, tempPath(t)).Contacts()
	})
}

func TestReopenKeepsData(t *testing.T) {
	storetest.TestReopenKeepsData(t, reopener(tempPath(t)))
}

func TestCloseIsIdempotentAndRefuses(t *testing.T) {
	storetest.TestCloseIsIdempotentAndRefuses(t, reopener(tempPath(t)))
}

// reopener opens the database at path afresh at every call.
func reopener(path string) func(t *testing.T) storetest.Stores {
	return func(t *testing.T) storetest.Stores {
		db, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		return storetest.Stores{Transcripts: db.Transcripts(), Contacts: db.Contacts(), Availability: db.Availability(), Close: db.Close}
	}
}

// TestTwoHandles opens one file twice, as two processes would: both append,
// and a Claim through one fences the other.
func TestTwoHandles(t *testing.T) {
	ctx, path := t.Context(), tempPath(t)
	a, b := openDB(t, path), openDB(t, path)
	ta, tb := a.Transcripts(), b.Transcripts()
	for _, id := range []string{"s-a", "s-b"} {
		if err := ta.Create(ctx, transcript.Session{ID: id, Owner: "cs-a", Epoch: 1}); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, 2)
	for _, w := range []struct {
		s  *TranscriptStore
		id string
	}{{ta, "s-a"}, {tb, "s-b"}} {
		go func() { errs <- appendN(ctx, w.s, w.id, 1, 1, 50) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	epoch, err := tb.Claim(ctx, "s-a", "cs-b", "cs-b/1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := appendN(ctx, ta, "s-a", 1, 51, 51); !errors.Is(err, transcript.ErrStaleEpoch) {
		t.Fatalf("append through the fenced handle: got %v, want ErrStaleEpoch", err)
	}
	if err := appendN(ctx, tb, "s-a", epoch, 51, 51); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]int{"s-a": 51, "s-b": 50} {
		if snap, err := ta.Load(ctx, id); err != nil || len(snap.Events) != want {
			t.Errorf("%s: %d events, %v; want %d", id, len(snap.Events), err, want)
		}
	}
}

// appendN appends events from..to one at a time.
func appendN(ctx context.Context, s *TranscriptStore, id string, epoch int64, from, to int) error {
	for i := from; i <= to; i++ {
		ev := transcript.Event{Index: i, Type: transcript.Message, Visibility: transcript.VisAll}
		if err := s.Append(ctx, id, epoch, []transcript.Event{ev}); err != nil {
			return err
		}
	}
	return nil
}

// TestBatchItemsFailAlone commits one batch by hand, so that the refused
// writes are certain to share a transaction with the good ones.
func TestBatchItemsFailAlone(t *testing.T) {
	db := openDB(t, tempPath(t))
	ctx, s := t.Context(), db.Transcripts()
	for _, id := range []string{"good", "stale", "conflict"} {
		if err := s.Create(ctx, transcript.Session{ID: id, Owner: "cs-1", Epoch: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Claim(ctx, "stale", "cs-2", "cs-2/1", 1); err != nil {
		t.Fatal(err)
	}
	rows := func(idx ...int) []eventRow {
		out := make([]eventRow, len(idx))
		for i, n := range idx {
			out[i] = eventRow{idx: n, data: []byte(`{"type":"Message"}`)}
		}
		return out
	}
	errHalfDone := errors.New("failed after its first statement")
	halfDone := func(ctx context.Context, tx *batchTx) error {
		return tx.atomic(ctx, func() error {
			if _, err := tx.exec(ctx, `INSERT INTO sessions (id, owner, epoch, async, created_at, user_data)
				VALUES ('half', 'cs-1', 1, 0, 0, '{}')`); err != nil {
				return err
			}
			return errHalfDone
		})
	}
	batch := []writeFn{
		appendEvents("good", 1, rows(1, 2)),
		appendEvents("stale", 1, rows(1)),
		appendEvents("conflict", 1, rows(1)),
		appendEvents("conflict", 1, rows(1)), // conflicts with the item before it
		appendEvents("missing", 1, rows(1)),
		halfDone, // its insert is rolled back to its savepoint
		appendEvents("good", 1, rows(3)),
	}
	want := []error{nil, transcript.ErrStaleEpoch, nil, transcript.ErrIndexConflict, transcript.ErrNotFound, errHalfDone, nil}
	for i, err := range commitBatch(ctx, db.w.cache, batch) {
		if !errors.Is(err, want[i]) || (want[i] == nil) != (err == nil) {
			t.Errorf("item %d: got %v, want %v", i, err, want[i])
		}
	}
	if _, err := s.Load(ctx, "half"); !errors.Is(err, transcript.ErrNotFound) {
		t.Errorf("the failed write's statement was kept: Load(half) = %v", err)
	}
	for id, n := range map[string]int{"good": 3, "stale": 0, "conflict": 1} {
		if snap, err := s.Load(ctx, id); err != nil || len(snap.Events) != n {
			t.Errorf("%s: %d events, %v; want %d", id, len(snap.Events), err, n)
		}
	}
}

// TestBatchEndedByWrite has a write end the transaction, as an I/O error or
// an interrupt makes SQLite do: every write of the batch must then fail, and
// none be kept, rather than later ones committing one by one.
func TestBatchEndedByWrite(t *testing.T) {
	db := openDB(t, tempPath(t))
	ctx, s := t.Context(), db.Transcripts()
	for _, id := range []string{"before", "after"} {
		if err := s.Create(ctx, transcript.Session{ID: id, Owner: "cs-1", Epoch: 1}); err != nil {
			t.Fatal(err)
		}
	}
	row := []eventRow{{idx: 1, data: []byte(`{"type":"Message"}`)}}
	ender := func(ctx context.Context, tx *batchTx) error {
		if _, err := tx.exec(ctx, `ROLLBACK`); err != nil {
			return err
		}
		return errors.New("ended the transaction")
	}
	batch := []writeFn{appendEvents("before", 1, row), ender, appendEvents("after", 1, row)}
	for i, err := range commitBatch(ctx, db.w.cache, batch) {
		if err == nil {
			t.Errorf("item %d succeeded in a batch whose transaction ended", i)
		}
	}
	for _, id := range []string{"before", "after"} {
		if snap, err := s.Load(ctx, id); err != nil || len(snap.Events) != 0 {
			t.Errorf("%s: %d events, %v; want none kept", id, len(snap.Events), err)
		}
	}
}

// TestConcurrentCreate opens one new file from several handles at once, as
// the chat servers of `parley up` do on a fresh data dir.
func TestConcurrentCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	errs := make(chan error, 6)
	for range cap(errs) {
		go func() {
			db, err := Open(context.Background(), path)
			if err == nil {
				err = db.Close()
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestPageCache checks the default page cache and that a DSN's own wins.
func TestPageCache(t *testing.T) {
	for dsn, want := range map[string]int{
		tempPath(t): -32768,
		"file:" + filepath.Join(t.TempDir(), "p.db") + "?_pragma=cache_size(-1000)": -1000,
	} {
		db := openDB(t, dsn)
		var got int
		if err := db.sql.QueryRowContext(t.Context(), `PRAGMA cache_size`).Scan(&got); err != nil || got != want {
			t.Errorf("%s: cache_size = %d, %v; want %d", dsn, got, err, want)
		}
	}
}

// TestLongAppend appends more events than one statement takes: they are
// stored in order, and a long append at a stale epoch stores nothing.
func TestLongAppend(t *testing.T) {
	ctx, s := t.Context(), openDB(t, tempPath(t)).Transcripts()
	if err := s.Create(ctx, transcript.Session{ID: "long", Owner: "cs-1", Epoch: 1}); err != nil {
		t.Fatal(err)
	}
	events := func(from, n int) []transcript.Event {
		out := make([]transcript.Event, n)
		for i := range out {
			out[i] = transcript.Event{Index: from + i, Type: transcript.Message, Time: time.UnixMilli(int64(from + i)),
				PartyID: "p", Visibility: transcript.VisAll, Text: "hi"}
		}
		return out
	}
	if err := s.Append(ctx, "long", 1, events(1, 3*appendChunk+5)); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, "long", 2, events(200, 2*appendChunk)); !errors.Is(err, transcript.ErrStaleEpoch) {
		t.Errorf("a long append at a stale epoch: got %v, want ErrStaleEpoch", err)
	}
	assertLoaded(ctx, t, s, "long", 3*appendChunk+5)
}

// TestSynchronous checks that every connection of an opened database runs
// with synchronous=FULL (2), so that an acknowledged commit survives a
// power cut, unless the DSN's _synchronous sets another level.
func TestSynchronous(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		dsn  string
		want int
	}{
		{tempPath(t), 2},
		{"file:" + filepath.Join(dir, "uri.db"), 2},
		{"file:" + filepath.Join(dir, "normal.db") + "?_synchronous=NORMAL", 1},
		{"file:" + filepath.Join(dir, "off.db") + "?_synchronous=OFF", 0},
		{"file:" + filepath.Join(dir, "extra.db") + "?_synchronous=EXTRA", 3},
		{deploymentDSN(t, dir, "parley.db"), 2},
		{deploymentDSN(t, dir, "file:deployed.db?_synchronous=NORMAL"), 1},
	} {
		db := openDB(t, tt.dsn)
		// Hold every connection of the pool at once: each runs the
		// DSN's pragmas when it opens, the writer's included.
		conns := make([]*sql.Conn, maxConns)
		for i := range conns {
			c, err := db.sql.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			conns[i] = c
		}
		for i, c := range conns {
			var got int
			if err := c.QueryRowContext(t.Context(), `PRAGMA synchronous`).Scan(&got); err != nil || got != tt.want {
				t.Errorf("%s, connection %d: synchronous = %d, %v; want %d", tt.dsn, i, got, err, tt.want)
			}
			c.Close()
		}
	}
}

// deploymentDSN is the DSN `parley up` opens for a deployment file whose
// data-dir is dir and whose database has dsn.
func deploymentDSN(t *testing.T, dir, dsn string) string {
	t.Helper()
	d, err := config.Parse("parley.yaml", []byte(fmt.Sprintf(`data-dir: %s
databases: {main: {driver: sqlite, dsn: %q}}
applications:
  chat-1: {type: chat-server, listen: "127.0.0.1:1", database: main}
`, dir, dsn)))
	if err != nil {
		t.Fatal(err)
	}
	return d.DSN(d.Databases["main"])
}

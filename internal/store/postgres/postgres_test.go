package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/transcript"
)

// testDSN is a schema of the test's own; see storetest.PostgresDSN.
func testDSN(t testing.TB) string { return storetest.PostgresDSN(t) }

// openDB opens a database and closes it when the test ends.
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

func TestTranscriptStore(t *testing.T) {
	storetest.TestTranscriptStore(t, func(t *testing.T) transcript.Store {
		return openDB(t, testDSN(t)).Transcripts()
	})
}

func TestContactStore(t *testing.T) {
	storetest.TestContactStore(t, func(t *testing.T) contact.Store {
		return openDB(t, testDSN(t)).Contacts()
	})
}

func TestReopenKeepsData(t *testing.T) {
	storetest.TestReopenKeepsData(t, reopener(testDSN(t)))
}

// TestConcurrentOpen opens one schema from several pools at once, as
// processes starting together would; the migration must run once.
func TestConcurrentOpen(t *testing.T) {
	dsn := testDSN(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			db, err := Open(t.Context(), dsn)
			if err == nil {
				err = db.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestCloseIsIdempotentAndRefuses(t *testing.T) {
	storetest.TestCloseIsIdempotentAndRefuses(t, reopener(testDSN(t)))
}

// reopener opens the database at dsn afresh at every call.
func reopener(dsn string) func(t *testing.T) storetest.Stores {
	return func(t *testing.T) storetest.Stores {
		db, err := Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		return storetest.Stores{Transcripts: db.Transcripts(), Contacts: db.Contacts(), Availability: db.Availability(), Close: db.Close}
	}
}

// TestBatchItemsFailAlone commits one batch by hand, so that the refused
// writes are certain to share a transaction with the good ones.
func TestBatchItemsFailAlone(t *testing.T) {
	ctx, s := t.Context(), openDB(t, testDSN(t)).Transcripts()
	for _, id := range []string{"good", "stale", "conflict", "gone"} {
		if err := s.Create(ctx, transcript.Session{ID: id, Owner: "cs-1", Epoch: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Claim(ctx, "stale", "cs-2", "cs-2/1", 1); err != nil {
		t.Fatal(err)
	}
	rows := func(idx ...int64) []eventRow {
		out := make([]eventRow, len(idx))
		for i, n := range idx {
			out[i] = eventRow{idx: n, data: `{"type":"Message"}`}
		}
		return out
	}
	batch := []struct {
		w    write
		want error
	}{
		{appendWrite(appendReq{sessionID: "good", epoch: 1, events: rows(1, 2)}), nil},
		{appendWrite(appendReq{sessionID: "stale", epoch: 1, events: rows(1)}), transcript.ErrStaleEpoch},
		{appendWrite(appendReq{sessionID: "conflict", epoch: 1, events: rows(1)}), nil},
		{appendWrite(appendReq{sessionID: "conflict", epoch: 1, events: rows(1)}), transcript.ErrIndexConflict},
		{appendWrite(appendReq{sessionID: "missing", epoch: 1, events: rows(1)}), transcript.ErrNotFound},
		{appendWrite(appendReq{sessionID: "good", epoch: 1, events: rows(3)}), nil},
		{appendWrite(appendReq{sessionID: "stale", epoch: 1}), transcript.ErrStaleEpoch},
		{createWrite(transcript.Session{ID: "good", Owner: "cs-1", Epoch: 1}, []byte("{}")), transcript.ErrExists},
		{deleteWrite("stale", 1), transcript.ErrStaleEpoch},
		{deleteWrite("gone", 1), nil},
		{appendWrite(appendReq{sessionID: "gone", epoch: 1, events: rows(1)}), transcript.ErrNotFound},
	}
	writes := make([]write, len(batch))
	for i, b := range batch {
		writes[i] = b.w
	}
	for i, err := range commitWrites(ctx, s.pool, writes) {
		if want := batch[i].want; !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Errorf("item %d: got %v, want %v", i, err, want)
		}
	}
	for id, n := range map[string]int{"good": 3, "stale": 0, "conflict": 1} {
		if snap, err := s.Load(ctx, id); err != nil || len(snap.Events) != n {
			t.Errorf("%s: %d events, %v; want %d", id, len(snap.Events), err, n)
		}
	}
	if _, err := s.Load(ctx, "gone"); !errors.Is(err, transcript.ErrNotFound) {
		t.Errorf("deleted session: Load got %v, want ErrNotFound", err)
	}
}

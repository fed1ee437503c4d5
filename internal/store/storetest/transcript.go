package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// TestTranscriptStore runs the transcript.Store conformance suite. open must
// return a fresh store that stays usable until the test ends; subtests run in
// parallel, each on its own store.
func TestTranscriptStore(t *testing.T, open func(t *testing.T) transcript.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s transcript.Store)
	}{
		{"CreateExists", testCreateExists},
		{"AppendLoadRoundTrip", testRoundTrip},
		{"IndexConflict", testIndexConflict},
		{"Fencing", testFencing},
		{"ClaimRace", testClaimRace},
		{"NotFound", testNotFound},
		{"ConcurrentAppends", testConcurrentAppends},
		{"StaleAppendFailsAlone", testStaleAppendFailsAlone},
		{"Sessions", testSessions},
		{"Delete", testDelete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, open(t))
		})
	}
}

// NewID returns a random id, so that tests sharing a database never collide.
func NewID(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// ms is a UTC time with millisecond precision, as the store keeps it.
func ms(n int64) time.Time { return time.UnixMilli(1_763_700_000_000 + n).UTC() }

func newSession(owner string) transcript.Session {
	return transcript.Session{ID: NewID("s"), Owner: owner, Incarnation: owner + "/inc-1", Epoch: 1, CreatedAt: ms(0)}
}

func mustCreate(t *testing.T, s transcript.Store, sess transcript.Session) {
	t.Helper()
	if err := s.Create(t.Context(), sess); err != nil {
		t.Fatalf("Create %s: %v", sess.ID, err)
	}
}

func msg(idx int) transcript.Event {
	return transcript.Event{Index: idx, Type: transcript.Message, Time: ms(int64(idx)), PartyID: "p1",
		Visibility: transcript.VisAll, Text: fmt.Sprintf("message %d", idx)}
}

func testCreateExists(t *testing.T, s transcript.Store) {
	sess := newSession("cs-1")
	sess.Async = true
	sess.UserData = map[string]string{"FirstName": "Ada", "Subject": "billing"}
	mustCreate(t, s, sess)
	if err := s.Create(t.Context(), sess); !errors.Is(err, transcript.ErrExists) {
		t.Fatalf("second Create: got %v, want ErrExists", err)
	}
	snap, err := s.Load(t.Context(), sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertSession(t, snap.Session, sess)
	if len(snap.Events) != 0 {
		t.Errorf("new session has %d events", len(snap.Events))
	}
}

func assertSession(t *testing.T, got, want transcript.Session) {
	t.Helper()
	if got.ID != want.ID || got.Owner != want.Owner || got.Incarnation != want.Incarnation || got.Epoch != want.Epoch || got.Async != want.Async ||
		!got.CreatedAt.Equal(want.CreatedAt) || !maps.Equal(got.UserData, want.UserData) {
		t.Errorf("session:\n got %+v\nwant %+v", got, want)
	}
}

func testRoundTrip(t *testing.T, s transcript.Store) {
	sess := newSession("cs-1")
	mustCreate(t, s, sess)
	want := richEvents()
	if err := s.Append(t.Context(), sess.ID, 1, want[:2]); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(t.Context(), sess.ID, 1, want[2:]); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Load(t.Context(), sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertEvents(t, snap.Events, want)
}

// richEvents sets every Event field, with a gap in the indexes (5 is unstored).
func richEvents() []transcript.Event {
	party := &transcript.Party{ID: "u-1", ParticipantID: 1, Type: transcript.Client, Nickname: "Ada",
		Protocol: "FLEX", Visibility: transcript.VisAll, TimeZoneOffset: -120,
		UserData: map[string]string{"k": "v"}, KeyHash: "abc123"}
	return []transcript.Event{
		{Index: 1, Type: transcript.ParticipantJoined, Time: ms(1), PartyID: "u-1", Visibility: transcript.VisAll, Party: party},
		{Index: 2, Type: transcript.Message, Time: ms(2), PartyID: "u-1", Visibility: transcript.VisInt,
			Text: "héllo <b>", MessageType: "text", UserData: map[string]string{"a": "1"}, EventAttributes: map[string]string{"purpose": "reply"}},
		{Index: 3, Type: transcript.CustomNotice, Time: ms(3), PartyID: "u-1", Visibility: transcript.VisVIP, NoticeType: "USER_CUSTOM"},
		{Index: 4, Type: transcript.ParticipantLeft, Time: ms(4), PartyID: "u-1", Visibility: transcript.VisAll,
			Reason: transcript.ReasonBadKey, AskerID: "u-2"},
		{Index: 6, Type: transcript.ParticipantLeft, Time: ms(6), PartyID: "u-3", Visibility: transcript.VisAll,
			Reason: transcript.ReasonNone, AskerID: "u-3"},
	}
}

func assertEvents(t *testing.T, got, want []transcript.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Time.Equal(w.Time) || g.UTCMillis() != w.UTCMillis() {
			t.Errorf("event %d: time %v, want %v", i, g.Time, w.Time)
		}
		g.Time, w.Time = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func testIndexConflict(t *testing.T, s transcript.Store) {
	sess := newSession("cs-1")
	mustCreate(t, s, sess)
	if err := s.Append(t.Context(), sess.ID, 1, []transcript.Event{msg(1), msg(2)}); err != nil {
		t.Fatal(err)
	}
	for _, evs := range [][]transcript.Event{{msg(2)}, {msg(1)}, {msg(4), msg(3)}, {msg(5), msg(5)}} {
		if err := s.Append(t.Context(), sess.ID, 1, evs); !errors.Is(err, transcript.ErrIndexConflict) {
			t.Errorf("append %d..: got %v, want ErrIndexConflict", evs[0].Index, err)
		}
	}
	if err := s.Append(t.Context(), sess.ID, 1, []transcript.Event{msg(4)}); err != nil {
		t.Fatalf("append after a gap: %v", err)
	}
	assertIndexes(t, s, sess.ID, 1, 2, 4)
}

func assertIndexes(t *testing.T, s transcript.Store, id string, want ...int) {
	t.Helper()
	snap, err := s.Load(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]int, len(snap.Events))
	for i, e := range snap.Events {
		got[i] = e.Index
	}
	if !slices.Equal(got, want) {
		t.Errorf("session %s: indexes %v, want %v", id, got, want)
	}
}

func testFencing(t *testing.T, s transcript.Store) {
	sess := newSession("cs-1")
	mustCreate(t, s, sess)
	epoch, err := s.Claim(t.Context(), sess.ID, "cs-2", "cs-2/inc-7", 1)
	if err != nil || epoch != 2 {
		t.Fatalf("Claim: epoch %d, %v; want 2", epoch, err)
	}
	if err := s.Append(t.Context(), sess.ID, 1, []transcript.Event{msg(1)}); !errors.Is(err, transcript.ErrStaleEpoch) {
		t.Errorf("append with the old epoch: got %v, want ErrStaleEpoch", err)
	}
	if err := s.Append(t.Context(), sess.ID, 2, []transcript.Event{msg(1)}); err != nil {
		t.Errorf("append with the new epoch: %v", err)
	}
	if err := s.Delete(t.Context(), sess.ID, 1); !errors.Is(err, transcript.ErrStaleEpoch) {
		t.Errorf("delete with the old epoch: got %v, want ErrStaleEpoch", err)
	}
	if _, err := s.Claim(t.Context(), sess.ID, "cs-3", "cs-3/inc-1", 1); !errors.Is(err, transcript.ErrStaleEpoch) {
		t.Errorf("claim from an old epoch: got %v, want ErrStaleEpoch", err)
	}
	snap, err := s.Load(t.Context(), sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Session.Owner != "cs-2" || snap.Session.Incarnation != "cs-2/inc-7" || snap.Session.Epoch != 2 || len(snap.Events) != 1 {
		t.Errorf("after claim: owner %s incarnation %q epoch %d, %d events; want cs-2, cs-2/inc-7, 2, 1",
			snap.Session.Owner, snap.Session.Incarnation, snap.Session.Epoch, len(snap.Events))
	}
	head, err := s.Header(t.Context(), sess.ID)
	if err != nil || !reflect.DeepEqual(head, snap.Session) {
		t.Errorf("Header = %+v, %v; want Load's %+v", head, err, snap.Session)
	}
}

func testNotFound(t *testing.T, s transcript.Store) {
	ctx, id := t.Context(), NewID("missing")
	if _, err := s.Load(ctx, id); !errors.Is(err, transcript.ErrNotFound) {
		t.Errorf("Load: got %v", err)
	}
	if _, err := s.Header(ctx, id); !errors.Is(err, transcript.ErrNotFound) {
		t.Errorf("Header: got %v", err)
	}
	if err := s.Append(ctx, id, 1, []transcript.Event{msg(1)}); !errors.Is(err, transcript.ErrNotFound) {
		t.Errorf("Append: got %v", err)
	}
	if _, err := s.Claim(ctx, id, "cs-1", "cs-1/inc-1", 1); !errors.Is(err, transcript.ErrNotFound) {
		t.Errorf("Claim: got %v", err)
	}
	if err := s.Delete(ctx, id, 1); err != nil {
		t.Errorf("Delete of a missing session: %v", err)
	}
}

// testConcurrentAppends has 50 sessions append one event at a time in
// parallel, so the store sees many appends at once and must batch them.
func testConcurrentAppends(t *testing.T, s transcript.Store) {
	const sessions, perSession = 50, 20
	ids := make([]string, sessions)
	for i := range ids {
		sess := newSession("cs-1")
		mustCreate(t, s, sess)
		ids[i] = sess.ID
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			for i := 1; i <= perSession; i++ {
				if err := s.Append(t.Context(), id, 1, []transcript.Event{msg(i)}); err != nil {
					t.Errorf("append %s #%d: %v", id, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	want := make([]int, perSession)
	for i := range want {
		want[i] = i + 1
	}
	for _, id := range ids {
		assertIndexes(t, s, id, want...)
	}
}

// testStaleAppendFailsAlone sends refused appends among good ones, all at
// once, so that they share batches; only the refused ones may fail.
func testStaleAppendFailsAlone(t *testing.T, s transcript.Store) {
	const n = 40
	good, stale := make([]string, n), make([]string, n/4)
	for i := range good {
		sess := newSession("cs-1")
		mustCreate(t, s, sess)
		good[i] = sess.ID
	}
	for i := range stale {
		sess := newSession("cs-1")
		mustCreate(t, s, sess)
		if _, err := s.Claim(t.Context(), sess.ID, "cs-2", "cs-2/inc-1", 1); err != nil {
			t.Fatal(err)
		}
		stale[i] = sess.ID
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	appendAll(t, &wg, start, s, good, nil)
	appendAll(t, &wg, start, s, stale, transcript.ErrStaleEpoch)
	close(start)
	wg.Wait()
	for _, id := range good {
		assertIndexes(t, s, id, 1)
	}
}

// appendAll starts one goroutine per id that appends event 1 at epoch 1
// once start is closed and expects want.
func appendAll(t *testing.T, wg *sync.WaitGroup, start chan struct{}, s transcript.Store, ids []string, want error) {
	for _, id := range ids {
		wg.Go(func() {
			<-start
			err := s.Append(context.WithoutCancel(t.Context()), id, 1, []transcript.Event{msg(1)})
			if !errors.Is(err, want) {
				t.Errorf("append %s: got %v, want %v", id, err, want)
			}
		})
	}
}

func testSessions(t *testing.T, s transcript.Store) {
	owner, other := NewID("cs"), NewID("cs")
	a, b, c := newSession(owner), newSession(owner), newSession(other)
	b.CreatedAt = ms(10)
	for _, sess := range []transcript.Session{a, b, c} {
		mustCreate(t, s, sess)
	}
	if _, err := s.Claim(t.Context(), c.ID, owner, owner+"/inc-2", 1); err != nil {
		t.Fatal(err)
	}
	got, err := s.Sessions(t.Context(), owner)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("Sessions(%s): %d sessions, want 3", owner, len(got))
	}
	byID := map[string]transcript.Session{}
	for _, sess := range got {
		byID[sess.ID] = sess
	}
	c.Owner, c.Incarnation, c.Epoch = owner, owner+"/inc-2", 2
	for _, want := range []transcript.Session{a, b, c} {
		assertSession(t, byID[want.ID], want)
	}
	if got, err := s.Sessions(t.Context(), other); err != nil || len(got) != 0 {
		t.Errorf("Sessions(%s): %v, %v; want none", other, got, err)
	}
}

func testDelete(t *testing.T, s transcript.Store) {
	sess := newSession("cs-1")
	mustCreate(t, s, sess)
	if err := s.Append(t.Context(), sess.ID, 1, []transcript.Event{msg(1), msg(2)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(t.Context(), sess.ID, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(t.Context(), sess.ID); !errors.Is(err, transcript.ErrNotFound) {
		t.Fatalf("Load after Delete: got %v, want ErrNotFound", err)
	}
	mustCreate(t, s, sess) // the id is free again, and no old event comes back
	assertIndexes(t, s, sess.ID)
	if err := s.Append(t.Context(), sess.ID, 1, []transcript.Event{msg(1)}); err != nil {
		t.Fatalf("append to the re-created session: %v", err)
	}
}

// testClaimRace has several servers claim one session from the same epoch at
// once, as two web APIs asking two chat servers to restore it would: exactly
// one wins.
func testClaimRace(t *testing.T, s transcript.Store) {
	sess := newSession("cs-1")
	mustCreate(t, s, sess)
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			owner := fmt.Sprintf("cs-%d", i+2)
			_, err := s.Claim(t.Context(), sess.ID, owner, owner+"/inc-1", 1)
			errs <- err
		}()
	}
	won := 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			won++
		case !errors.Is(err, transcript.ErrStaleEpoch):
			t.Errorf("losing claim: got %v, want ErrStaleEpoch", err)
		}
	}
	if won != 1 {
		t.Errorf("%d claims won, want exactly 1", won)
	}
	snap, err := s.Load(t.Context(), sess.ID)
	if err != nil || snap.Session.Epoch != 2 {
		t.Errorf("after the race: epoch %d, %v; want 2", snap.Session.Epoch, err)
	}
	if snap.Session.Incarnation != snap.Session.Owner+"/inc-1" {
		t.Errorf("after the race: owner %s with incarnation %q: not the winner's pair", snap.Session.Owner, snap.Session.Incarnation)
	}
}

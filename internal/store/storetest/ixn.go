package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/ixn"
)

// TestIxnStore runs the ixn.Store conformance suite. open must return a
// fresh store that stays usable until the test ends; subtests run in
// parallel, each on its own store.
func TestIxnStore(t *testing.T, open func(t *testing.T) ixn.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s ixn.Store)
	}{
		{"Empty", testIxnEmpty},
		{"SaveLoad", testIxnSaveLoad},
		{"UpsertDelete", testIxnUpsertDelete},
		{"Events", testIxnEvents},
		{"DuplicateEventIsAtomic", testIxnDuplicateEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, open(t))
		})
	}
}

var ixnT0 = time.Date(2026, 3, 4, 5, 6, 7, 8_000_000, time.UTC)

func newIxn(id string, minute int) ixn.Interaction {
	at := ixnT0.Add(time.Duration(minute) * time.Minute)
	return ixn.Interaction{
		ID: id, MediaType: "chat", State: ixn.StateHandling, Queue: "default",
		Agents: []string{"alice"}, Properties: map[string]string{"Subject": "billing", "Priority": "3"},
		SubmittedBy: "chat-1", SubmittedAt: at, PlacedAt: at.Add(time.Second), LastAgent: "alice",
		Parties: []ixn.Party{{AgentID: "alice", How: "route", Joined: at.Add(2 * time.Second)}},
	}
}

func mustCommit(t *testing.T, s ixn.Store, b ixn.Batch) {
	t.Helper()
	if err := s.Commit(t.Context(), b); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// loadAll returns the stored interactions as JSON by id, which compares
// times by value.
func loadAll(t *testing.T, s ixn.Store) map[string]string {
	t.Helper()
	list, err := s.Interactions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, in := range list {
		m[in.ID] = asJSON(t, in)
	}
	return m
}

func asJSON(t *testing.T, in ixn.Interaction) string {
	t.Helper()
	in.SubmittedAt, in.PlacedAt = in.SubmittedAt.UTC(), in.PlacedAt.UTC()
	for i := range in.Parties {
		in.Parties[i].Joined, in.Parties[i].Left = in.Parties[i].Joined.UTC(), in.Parties[i].Left.UTC()
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testIxnEmpty(t *testing.T, s ixn.Store) {
	if got := loadAll(t, s); len(got) != 0 {
		t.Errorf("interactions %v", got)
	}
	if id, err := s.LastEventID(t.Context()); err != nil || id != 0 {
		t.Errorf("LastEventID = %d, %v", id, err)
	}
	if evs, err := s.Events(t.Context(), 1, 10); err != nil || len(evs) != 0 {
		t.Errorf("Events = %v, %v", evs, err)
	}
	mustCommit(t, s, ixn.Batch{})
}

func testIxnSaveLoad(t *testing.T, s ixn.Store) {
	a, b := newIxn("ixn-a", 0), newIxn("ixn-b", 1)
	b.State, b.Agents, b.Workbin, b.WorkbinOf = ixn.StateInWorkbin, nil, "async", "alice"
	b.Parties[0].Left = ixnT0.Add(time.Hour)
	b.PreferAgent, b.PreferAttempts = "alice", 2
	mustCommit(t, s, ixn.Batch{Saves: []ixn.Interaction{a, b}})
	got := loadAll(t, s)
	for _, want := range []ixn.Interaction{a, b} {
		if got[want.ID] != asJSON(t, want) {
			t.Errorf("interaction %s:\n got %s\nwant %s", want.ID, got[want.ID], asJSON(t, want))
		}
	}
}

func testIxnUpsertDelete(t *testing.T, s ixn.Store) {
	a, b := newIxn("ixn-a", 0), newIxn("ixn-b", 1)
	mustCommit(t, s, ixn.Batch{Saves: []ixn.Interaction{a, b}})
	a.State, a.Queue, a.Properties["Priority"] = ixn.StateQueued, "other", "9"
	mustCommit(t, s, ixn.Batch{Saves: []ixn.Interaction{a}, Deletes: []string{"ixn-b", "never-there"}})
	got := loadAll(t, s)
	if len(got) != 1 || got["ixn-a"] != asJSON(t, a) {
		t.Errorf("after upsert and delete: %v", got)
	}
	// A save and a delete of one id in one batch: the delete wins (a stop).
	mustCommit(t, s, ixn.Batch{Saves: []ixn.Interaction{a}, Deletes: []string{"ixn-a"}})
	if got := loadAll(t, s); len(got) != 0 {
		t.Errorf("after save+delete: %v", got)
	}
}

func logEvents(from, to int64) []ixn.LogEvent {
	var evs []ixn.LogEvent
	for id := from; id <= to; id++ {
		at := ixnT0.Add(time.Duration(id) * time.Millisecond)
		body := fmt.Sprintf(`{"eventId":%d,"time":%d,"interactionId":"ixn-%d","properties":{"b":"1","a":"2"}}`, id, at.UnixMilli(), id)
		evs = append(evs, ixn.LogEvent{ID: id, Time: at, Name: "EventPlacedInQueue", Body: json.RawMessage(body)})
	}
	return evs
}

func testIxnEvents(t *testing.T, s ixn.Store) {
	mustCommit(t, s, ixn.Batch{Events: logEvents(1, 3)})
	mustCommit(t, s, ixn.Batch{Events: logEvents(4, 7)})
	if id, err := s.LastEventID(t.Context()); err != nil || id != 7 {
		t.Errorf("LastEventID = %d, %v", id, err)
	}
	got, err := s.Events(t.Context(), 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := logEvents(3, 5)
	if len(got) != len(want) {
		t.Fatalf("Events(3, 3): %d events", len(got))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || !g.Time.Equal(w.Time) || g.Name != w.Name || string(g.Body) != string(w.Body) {
			t.Errorf("event %d:\n got %+v %s\nwant %+v %s", w.ID, g, g.Body, w, w.Body)
		}
	}
	if rest, err := s.Events(t.Context(), 6, 100); err != nil || len(rest) != 2 || rest[1].ID != 7 {
		t.Errorf("Events(6, 100) = %v, %v", rest, err)
	}
}

func testIxnDuplicateEvent(t *testing.T, s ixn.Store) {
	mustCommit(t, s, ixn.Batch{Events: logEvents(1, 2)})
	err := s.Commit(t.Context(), ixn.Batch{Saves: []ixn.Interaction{newIxn("ixn-a", 0)}, Events: logEvents(2, 3)})
	if !errors.Is(err, ixn.ErrDuplicateEvent) {
		t.Fatalf("Commit of a duplicate event: %v, want ErrDuplicateEvent", err)
	}
	if got := loadAll(t, s); len(got) != 0 {
		t.Errorf("a failed commit saved %v", got)
	}
	if id, _ := s.LastEventID(t.Context()); id != 2 {
		t.Errorf("LastEventID = %d after a failed commit", id)
	}
}

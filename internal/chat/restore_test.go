package chat

import (
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// snapshotOf is what the intermediate store holds of s.
func snapshotOf(s *Session) transcript.Snapshot {
	return transcript.Snapshot{
		Session: transcript.Session{ID: s.ID(), Epoch: 1, CreatedAt: s.CreatedAt(), UserData: s.UserData()},
		Events:  s.Stored(),
	}
}

func TestRestoreRebuildsAndNormalises(t *testing.T) {
	old := fixture(t, "major2", false)
	ok(t)(old.Send(t0, "c", Message{Text: "one"}))
	ok(t)(old.Notify(t0, "c", transcript.TypingStarted, "", "", nil)) // delivered, not stored
	ok(t)(old.Notify(t0, "c", transcript.NicknameUpdated, "Annie", "", nil))
	ok(t)(old.Send(t0, "a", Message{Text: "two"}))
	seen := old.NextPosition() // the client saw everything so far
	mustJoin(t, old, transcript.Party{ID: "b", Type: transcript.External})
	ok(t)(old.Leave(t0, "b", "b", KeepAlive, ""))

	later := t0.Add(time.Minute)
	s, st, err := Restore(snapshotOf(old), later, Options{SaveNotices: major2, Rules: rules()})
	if err != nil {
		t.Fatal(err)
	}
	if s.NextPosition() != old.NextPosition()+4 {
		t.Errorf("next position = %d, want %d (after 2 leaves and 2 joins)", s.NextPosition(), old.NextPosition()+4)
	}
	var kinds []string
	for _, e := range st.Store {
		kinds = append(kinds, string(e.Type)+":"+e.PartyID)
		if e.Type == transcript.ParticipantLeft && e.Reason != transcript.ReasonRestored {
			t.Errorf("restoration leave with reason %d, want 8", e.Reason)
		}
	}
	want := []string{"ParticipantLeft:c", "ParticipantJoined:c", "ParticipantLeft:a", "ParticipantJoined:a"}
	if !equal(kinds, want) {
		t.Errorf("restoration events = %v, want %v", kinds, want)
	}
	// A client resuming from its last position gets exactly what it missed.
	var missed []int
	for _, e := range s.Visible(seen, transcript.Client) {
		missed = append(missed, e.Index)
	}
	if len(missed) != 6 || missed[0] != seen {
		t.Errorf("resumed from %d, got indexes %v", seen, missed)
	}
	if p, present, _ := s.Party("c"); !present || p.Nickname != "Annie" {
		t.Errorf("client after restore = %+v present=%v", p, present)
	}
	if _, present, _ := s.Party("b"); present {
		t.Error("a party that had left came back")
	}
	ok(t)(s.Send(later, "c", Message{Text: "three"}))
}

func TestRestoredAgentMustRejoin(t *testing.T) {
	old := fixture(t, "major2", false)
	now := t0.Add(time.Minute)
	s, _, err := Restore(snapshotOf(old), now, Options{Rules: rules()})
	if err != nil {
		t.Fatal(err)
	}
	s.Touch(now.Add(40*time.Second), "c")
	st, _ := s.Tick(now.Add(45 * time.Second))
	if got := leftReasons(st); got["a"] != transcript.ReasonDisconnect || len(got) != 1 {
		t.Fatalf("left = %v, want the agent that never came back, reason 3", got)
	}

	s, _, _ = Restore(snapshotOf(old), now, Options{Rules: rules()})
	if _, err := s.Rejoin("a"); err != nil {
		t.Fatal(err)
	}
	s.Touch(now.Add(40*time.Second), "c")
	if st, _ := s.Tick(now.Add(45 * time.Second)); len(st.Events) != 0 {
		t.Errorf("a rejoined agent was removed: %+v", st.Events)
	}
	if _, err := s.Rejoin("c"); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("client rejoin: err = %v", err)
	}
}

func TestRestoreEndedSession(t *testing.T) {
	old := fixture(t, "major2", false)
	ok(t)(old.Leave(t0, "a", "a", ForceClose, ""))
	if _, _, err := Restore(snapshotOf(old), t0, Options{}); !errors.Is(err, ErrClosed) {
		t.Errorf("restore of an ended session: err = %v, want ErrClosed", err)
	}
}

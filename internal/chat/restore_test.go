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
	ok(t)(old.Notify(t0, "c", Notice{Type: transcript.TypingStarted})) // delivered, not stored
	ok(t)(old.Notify(t0, "c", Notice{Type: transcript.NicknameUpdated, Text: "Annie"}))
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

// asyncFixture is an async chat with a dormant customer: rules with a
// 1000 s async-idle-alert and a 100 s async-idle-close, a client that
// joined at t0 and wrote at t0+100 s, an agent that left it with KeepAlive
// and a bot that came and went, which does not count.
func asyncFixture(t *testing.T) (*Session, Rules) {
	t.Helper()
	r := rules()
	r.FlexDisconnect, r.Idle.Enabled = 0, false
	r.AsyncAlert, r.AsyncClose = 1000*sec, 100*sec
	s := New("A1", t0, Options{Async: true, SaveNotices: major2, Rules: r})
	mustJoin(t, s, transcript.Party{ID: "c", Type: transcript.Client})
	ok(t)(s.Send(t0.Add(50*sec), "c", Message{Text: "hello?"}))
	if _, _, err := s.Join(t0.Add(60*sec), transcript.Party{ID: "a", Type: transcript.Agent}, ""); err != nil {
		t.Fatal(err)
	}
	ok(t)(s.Leave(t0.Add(100*sec), "a", "a", KeepAlive, ""))
	if _, _, err := s.Join(t0.Add(200*sec), transcript.Party{ID: "bot", Type: transcript.External}, "beep"); err != nil {
		t.Fatal(err)
	}
	ok(t)(s.Leave(t0.Add(210*sec), "bot", "bot", KeepAlive, ""))
	return s, r
}

func asyncSnapshot(s *Session) transcript.Snapshot {
	snap := snapshotOf(s)
	snap.Session.Async = true
	return snap
}

// TestRestoreContinuesAsyncCountdown: a restored async chat keeps counting
// from its last qualified event, through any number of restorations, and
// is not marked for routing by them.
func TestRestoreContinuesAsyncCountdown(t *testing.T) {
	old, r := asyncFixture(t)
	alertAt := t0.Add(1100 * sec) // the agent's leave at 100 s + async-idle-alert
	s, st, err := Restore(asyncSnapshot(old), t0.Add(600*sec), Options{SaveNotices: major2, Rules: r})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Properties) != 0 {
		t.Errorf("restoration set properties %v: it is not customer activity", st.Properties)
	}
	s, _, err = Restore(asyncSnapshot(s), t0.Add(900*sec), Options{SaveNotices: major2, Rules: r})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Deadline(); !got.Equal(stamp(alertAt)) {
		t.Fatalf("deadline after two restorations = %v, want the alert at %v", got, alertAt)
	}
	st, _ = s.Tick(alertAt)
	if got := notices(st); len(got) != 1 || got[0] != IdleAlertNotice+":closing soon" || st.Properties[AsyncStatusProperty] != AsyncStatusIdle {
		t.Errorf("at the deadline: notices %q properties %v, want the async alert", got, st.Properties)
	}
}

// TestRestoreKeepsAsyncAlertStage: a chat restored after its async alert
// closes async-idle-close after that alert, without a second alert.
func TestRestoreKeepsAsyncAlertStage(t *testing.T) {
	old, r := asyncFixture(t)
	alertAt := t0.Add(1100 * sec)
	if st, _ := old.Tick(alertAt); len(notices(st)) != 1 {
		t.Fatal("no async alert before the failover")
	}
	s, _, err := Restore(asyncSnapshot(old), alertAt.Add(50*sec), Options{SaveNotices: major2, Rules: r})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Tick(alertAt.Add(100*sec - time.Millisecond)); len(st.Events) != 0 {
		t.Fatalf("fired before async-idle-close after the alert: %q", notices(st))
	}
	st, _ := s.Tick(alertAt.Add(100 * sec))
	if got := notices(st); !st.Closed || len(got) != 1 || got[0] != IdleCloseNotice+":closed" || leftReasons(st)["c"] != transcript.ReasonIdle {
		t.Errorf("close step: notices %q closed=%v left=%v", got, st.Closed, leftReasons(st))
	}
}

// TestRestoreAfterCustomerActivity: activity after the alert starts the
// countdown over, and a restoration keeps that.
func TestRestoreAfterCustomerActivity(t *testing.T) {
	old, r := asyncFixture(t)
	alertAt := t0.Add(1100 * sec)
	old.Tick(alertAt)
	ok(t)(old.Send(alertAt.Add(10*sec), "c", Message{Text: "still there?"}))
	s, _, err := Restore(asyncSnapshot(old), alertAt.Add(50*sec), Options{SaveNotices: major2, Rules: r})
	if err != nil {
		t.Fatal(err)
	}
	if want := stamp(alertAt.Add(1010 * sec)); !s.Deadline().Equal(want) {
		t.Errorf("deadline = %v, want a new alert at %v", s.Deadline(), want)
	}
}

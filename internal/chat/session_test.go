package chat

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 123456789, time.FixedZone("X", 3600))

// fixture is a session with a client "c", an agent "a" and, if asked, a supervisor "s".
func fixture(t *testing.T, save string, supervisor bool) *Session {
	t.Helper()
	set, err := ParseNoticeLevel(save)
	if err != nil {
		t.Fatal(err)
	}
	s := New("S1", t0, Options{SaveNotices: set, UserData: map[string]string{"FirstName": "Ann"}})
	mustJoin(t, s, transcript.Party{ID: "c", Type: transcript.Client, Nickname: "Ann"})
	mustJoin(t, s, transcript.Party{ID: "a", Type: transcript.Agent, Nickname: "Bob"})
	if supervisor {
		mustJoin(t, s, transcript.Party{ID: "s", Type: transcript.Supervisor, Nickname: "Sue", Visibility: transcript.VisVIP})
	}
	return s
}

func mustJoin(t *testing.T, s *Session, p transcript.Party) transcript.Party {
	t.Helper()
	got, _, err := s.Join(t0, p, "")
	if err != nil {
		t.Fatalf("join %s: %v", p.ID, err)
	}
	return got
}

// ok fails the test on an error: ok(t)(s.Send(...)).
func ok(t *testing.T) func(Step, error) Step {
	return func(st Step, err error) Step {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
}

func TestJoinNumbersPartiesAndEvents(t *testing.T) {
	s := New("S1", t0, Options{})
	p, st, err := s.Join(t0, transcript.Party{ID: "c", Type: transcript.Client, Nickname: "Ann", Visibility: transcript.VisInt}, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if p.ParticipantID != 1 || p.Visibility != transcript.VisAll {
		t.Errorf("client party = %+v, want participant 1 with visibility ALL", p)
	}
	if len(st.Events) != 2 || st.Events[0].Type != transcript.ParticipantJoined || st.Events[1].Type != transcript.Message {
		t.Fatalf("events = %+v, want join then greeting", st.Events)
	}
	for i, e := range st.Events {
		if e.Index != i+1 {
			t.Errorf("event %d index = %d", i, e.Index)
		}
		if e.Time.Location() != time.UTC || e.Time.Nanosecond()%int(time.Millisecond) != 0 {
			t.Errorf("event time %v is not UTC whole ms", e.Time)
		}
	}
	if st.Events[0].Party == nil || st.Events[0].Party.Nickname != "Ann" {
		t.Errorf("join event carries party %+v", st.Events[0].Party)
	}
	a := mustJoin(t, s, transcript.Party{ID: "a", Type: transcript.Agent})
	if a.ParticipantID != 2 {
		t.Errorf("agent participant id = %d, want 2", a.ParticipantID)
	}
	if s.NextPosition() != 4 {
		t.Errorf("next position = %d, want 4", s.NextPosition())
	}
}

func TestJoinRefusals(t *testing.T) {
	s := fixture(t, "major2", false)
	tests := []struct {
		name string
		p    transcript.Party
		want error
	}{
		{"second client", transcript.Party{ID: "c2", Type: transcript.Client}, ErrNotAllowed},
		{"same id", transcript.Party{ID: "a", Type: transcript.Agent}, ErrDuplicateParty},
		{"no type", transcript.Party{ID: "x"}, ErrInvalid},
		{"no id", transcript.Party{Type: transcript.Agent}, ErrInvalid},
		{"bad visibility", transcript.Party{ID: "x", Type: transcript.Agent, Visibility: "SECRET"}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := s.Join(t0, tt.p, ""); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVisibility(t *testing.T) {
	s := fixture(t, "major2", true)
	from := s.NextPosition()
	ok(t)(s.Send(t0, "c", Message{Text: "hi"}))
	ok(t)(s.Send(t0, "a", Message{Text: "internal", Visibility: transcript.VisInt}))
	ok(t)(s.Send(t0, "s", Message{Text: "vip"}))
	ok(t)(s.Send(t0, "a", Message{Text: "to all"}))

	tests := []struct {
		viewer transcript.PartyType
		want   []string
	}{
		{transcript.Client, []string{"hi", "to all"}},
		{transcript.Agent, []string{"hi", "internal", "to all"}},
		{transcript.External, []string{"hi", "internal", "to all"}},
		{transcript.Supervisor, []string{"hi", "internal", "vip", "to all"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.viewer), func(t *testing.T) {
			var got []string
			for _, e := range s.Visible(from, tt.viewer) {
				got = append(got, e.Text)
			}
			if !equal(got, tt.want) {
				t.Errorf("visible = %q, want %q", got, tt.want)
			}
		})
	}
	// The supervisor joined with VIP: the client never learns of it.
	for _, e := range s.Visible(1, transcript.Client) {
		if e.PartyID == "s" {
			t.Errorf("client sees supervisor event %+v", e)
		}
	}
}

func TestSendVisibilityRules(t *testing.T) {
	s := fixture(t, "major2", false)
	tests := []struct {
		name string
		from string
		msg  Message
		want error
	}{
		{"client INT", "c", Message{Text: "x", Visibility: transcript.VisInt}, ErrNotAllowed},
		{"agent VIP", "a", Message{Text: "x", Visibility: transcript.VisVIP}, ErrNotAllowed},
		{"unknown visibility", "a", Message{Text: "x", Visibility: "NOPE"}, ErrInvalid},
		{"empty text", "a", Message{}, ErrInvalid},
		{"unknown party", "zz", Message{Text: "x"}, ErrNoSuchParty},
		{"agent INT", "a", Message{Text: "x", Visibility: transcript.VisInt}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Send(t0, tt.from, tt.msg); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPositionsNeverRepeatNorSkip(t *testing.T) {
	s := fixture(t, "major2", false)
	pos, seen := 1, map[int]bool{}
	poll := func() {
		for _, e := range s.Visible(pos, transcript.Client) {
			if seen[e.Index] {
				t.Fatalf("event %d delivered twice", e.Index)
			}
			seen[e.Index] = true
		}
		pos = s.NextPosition()
	}
	for i := range 5 {
		poll()
		ok(t)(s.Send(t0, "a", Message{Text: "x", Visibility: transcript.VisInt}))
		ok(t)(s.Notify(t0, "c", Notice{Type: transcript.TypingStarted}))
		if i%2 == 0 {
			poll()
		}
		ok(t)(s.Send(t0, "a", Message{Text: "y"}))
	}
	poll()
	for _, e := range s.Visible(1, transcript.Client) {
		if !seen[e.Index] {
			t.Errorf("event %d (%s) was skipped", e.Index, e.Type)
		}
	}
	if got := s.Visible(s.NextPosition(), transcript.Client); len(got) != 0 {
		t.Errorf("refresh at next position returned %d events", len(got))
	}
	if got := s.Visible(1000, transcript.Client); len(got) != 0 {
		t.Errorf("refresh beyond the end returned %d events", len(got))
	}
}

func TestNoticesStoredPerLevel(t *testing.T) {
	tests := []struct {
		level  string
		notice transcript.EventType
		stored bool
	}{
		{"major2", transcript.TypingStarted, false},
		{"major2", transcript.TypingStopped, false},
		{"none", transcript.NicknameUpdated, true},
		{"major2", transcript.CustomNotice, true},
		{"major2", transcript.PushURL, true},
		{"major", transcript.CustomNotice, false},
		{"typing", transcript.TypingStarted, true},
		{"typing", transcript.TypingStopped, false},
		{"all", transcript.TypingStopped, true},
		{"all", transcript.NicknameUpdated, true},
		{"none", transcript.PushURL, false},
	}
	for _, tt := range tests {
		t.Run(tt.level+"/"+string(tt.notice), func(t *testing.T) {
			s := fixture(t, tt.level, false)
			st := ok(t)(s.Notify(t0, "c", Notice{Type: tt.notice, Text: "text"}))
			if len(st.Events) != 1 {
				t.Fatalf("delivered %d events, want 1", len(st.Events))
			}
			if got := len(st.Store) == 1; got != tt.stored {
				t.Errorf("stored = %v, want %v", got, tt.stored)
			}
		})
	}
}

func TestNotifyRules(t *testing.T) {
	s := fixture(t, "major2", false)
	if _, err := s.Notify(t0, "c", Notice{Type: transcript.Message, Text: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("message as notice: err = %v", err)
	}
	if _, err := s.Notify(t0, "c", Notice{Type: transcript.NicknameUpdated}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty nickname: err = %v", err)
	}
	st := ok(t)(s.Notify(t0, "c", Notice{Type: transcript.NicknameUpdated, Text: "Annie"}))
	if p, _, _ := s.Party("c"); p.Nickname != "Annie" {
		t.Errorf("nickname = %q after update", p.Nickname)
	}
	if st.Events[0].Text != "Annie" {
		t.Errorf("nickname event text = %q", st.Events[0].Text)
	}
	st = ok(t)(s.Notify(t0, "c", Notice{Type: transcript.CustomNotice, Text: "n"}))
	if st.Events[0].NoticeType != "USER_CUSTOM" {
		t.Errorf("custom notice type = %q", st.Events[0].NoticeType)
	}
}

func TestNotifyRefusesServerNotices(t *testing.T) {
	s := fixture(t, "all", false)
	for _, typ := range []transcript.EventType{
		transcript.FileUploaded, transcript.FileDeleted, transcript.ParticipantJoined,
		transcript.ParticipantLeft, transcript.Notice, transcript.IdleAlert, transcript.IdleClose,
	} {
		if _, err := s.Notify(t0, "c", Notice{Type: typ, Text: "x", UserData: map[string]string{"file-id": "f"}}); !errors.Is(err, ErrNotAllowed) {
			t.Errorf("Notify(%s): err = %v, want ErrNotAllowed", typ, err)
		}
	}
	if got := s.Visible(3, transcript.Agent); len(got) != 0 { // 1 and 2 are the joins
		t.Errorf("refused notices left events: %+v", got)
	}
}

func TestFileNotice(t *testing.T) {
	s := fixture(t, "major", false)
	st := ok(t)(s.FileNotice(t0, "c", transcript.FileUploaded, map[string]string{"file-id": "f"}))
	if len(st.Events) != 1 || len(st.Store) != 1 || st.Events[0].Visibility != transcript.VisAll || st.Events[0].UserData["file-id"] != "f" {
		t.Errorf("FileNotice step = %+v", st)
	}
	if _, err := s.FileNotice(t0, "c", transcript.CustomNotice, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("FileNotice(CustomNotice): err = %v, want ErrInvalid", err)
	}
	if _, err := s.FileNotice(t0, "nobody", transcript.FileDeleted, nil); !errors.Is(err, ErrNoSuchParty) {
		t.Errorf("FileNotice from nobody: err = %v, want ErrNoSuchParty", err)
	}
}

func TestLeaveAfterActions(t *testing.T) {
	tests := []struct {
		name          string
		who, asker    string
		action        AfterAction
		wantClosed    bool
		wantReasons   map[string]transcript.Reason
		wantPresent   []string
		withSecondAgt bool
	}{
		{name: "agent KeepAlive", who: "a", asker: "a", action: KeepAlive,
			wantReasons: map[string]transcript.Reason{"a": transcript.ReasonNone}, wantPresent: []string{"c"}},
		{name: "agent CloseIfNoAgents", who: "a", asker: "a", action: CloseIfNoAgents, wantClosed: true,
			wantReasons: map[string]transcript.Reason{"a": transcript.ReasonNone, "c": transcript.ReasonRemoved}},
		{name: "CloseIfNoAgents with another agent", who: "a", asker: "a", action: CloseIfNoAgents, withSecondAgt: true,
			wantReasons: map[string]transcript.Reason{"a": transcript.ReasonNone}, wantPresent: []string{"c", "a2"}},
		{name: "agent ForceClose", who: "a", asker: "a", action: ForceClose, wantClosed: true, withSecondAgt: true,
			wantReasons: map[string]transcript.Reason{"a": transcript.ReasonForceClose, "c": transcript.ReasonRemoved, "a2": transcript.ReasonRemoved}},
		{name: "agent removes client", who: "c", asker: "a", action: KeepAlive,
			wantReasons: map[string]transcript.Reason{"c": transcript.ReasonRemoved}, wantPresent: []string{"a"}},
		{name: "client logs out", who: "c", asker: "c", action: KeepAlive,
			wantReasons: map[string]transcript.Reason{"c": transcript.ReasonLogout}, wantPresent: []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fixture(t, "major2", false)
			if tt.withSecondAgt {
				mustJoin(t, s, transcript.Party{ID: "a2", Type: transcript.Agent})
			}
			st := ok(t)(s.Leave(t0, tt.who, tt.asker, tt.action, ""))
			if st.Closed != tt.wantClosed || s.Closed() != tt.wantClosed {
				t.Errorf("closed = %v/%v, want %v", st.Closed, s.Closed(), tt.wantClosed)
			}
			got := map[string]transcript.Reason{}
			for _, e := range st.Store {
				if e.Type == transcript.ParticipantLeft {
					got[e.PartyID] = e.Reason
				}
			}
			if len(got) != len(tt.wantReasons) {
				t.Errorf("left = %v, want %v", got, tt.wantReasons)
			}
			for id, r := range tt.wantReasons {
				if got[id] != r {
					t.Errorf("party %s reason = %d, want %d", id, got[id], r)
				}
			}
			var present []string
			for _, p := range s.Present() {
				present = append(present, p.ID)
			}
			if !equal(present, tt.wantPresent) {
				t.Errorf("present = %v, want %v", present, tt.wantPresent)
			}
		})
	}
}

func TestClientCannotRemoveOthers(t *testing.T) {
	s := fixture(t, "major2", false)
	if _, err := s.Leave(t0, "a", "c", ForceClose, ""); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("err = %v, want ErrNotAllowed", err)
	}
	if s.Closed() {
		t.Error("session closed by a refused request")
	}
}

func TestLastPartyLeavingCloses(t *testing.T) {
	s := fixture(t, "major2", false)
	ok(t)(s.Leave(t0, "a", "a", KeepAlive, "bye"))
	st := ok(t)(s.Remove(t0, "c", transcript.ReasonDisconnect))
	if !st.Closed || s.EndedAt().IsZero() {
		t.Fatal("session still open after the last party left")
	}
	if e := st.Events[0]; e.Reason != transcript.ReasonDisconnect {
		t.Errorf("reason = %d, want 3", e.Reason)
	}
}

func TestRequestsAfterEndOrLeave(t *testing.T) {
	s := fixture(t, "major2", false)
	ok(t)(s.Remove(t0, "c", transcript.ReasonBadKey))
	if _, err := s.Send(t0, "c", Message{Text: "x"}); !errors.Is(err, ErrPartyLeft) {
		t.Errorf("send after removal: err = %v", err)
	}
	if _, _, err := s.Join(t0, transcript.Party{ID: "c", Type: transcript.Client}, ""); !errors.Is(err, ErrDuplicateParty) {
		t.Errorf("rejoin with the same id: err = %v", err)
	}
	st := ok(t)(s.Close(t0, transcript.ReasonIdle))
	if len(st.Events) != 1 || st.Events[0].PartyID != "a" || st.Events[0].Reason != transcript.ReasonIdle {
		t.Errorf("close events = %+v, want the agent leaving with reason 7", st.Events)
	}
	for name, err := range map[string]error{
		"send":   errOf(s.Send(t0, "a", Message{Text: "x"})),
		"notify": errOf(s.Notify(t0, "a", Notice{Type: transcript.PushURL, Text: "u"})),
		"close":  errOf(s.Close(t0, transcript.ReasonIdle)),
		"notice": errOf(s.SystemNotice(t0, transcript.Notice, "x")),
		"data":   s.UpdateData("a", nil),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s on a closed session: err = %v", name, err)
		}
	}
}

func TestUpdateDataAndStored(t *testing.T) {
	s := fixture(t, "major2", false)
	if err := s.UpdateData("c", map[string]string{"Order": "42"}); err != nil {
		t.Fatal(err)
	}
	if d := s.UserData(); d["Order"] != "42" || d["FirstName"] != "Ann" {
		t.Errorf("user data = %v", d)
	}
	ok(t)(s.Notify(t0, "c", Notice{Type: transcript.TypingStarted}))
	ok(t)(s.Send(t0, "c", Message{Text: "x"}))
	stored := s.Stored()
	if len(stored) != 3 || stored[2].Index != 4 {
		t.Errorf("stored = %+v, want joins and the message at index 4", stored)
	}
}

func TestParseAfterAction(t *testing.T) {
	for in, want := range map[string]AfterAction{"": CloseIfNoAgents, "KeepAlive": KeepAlive, "CloseIfNoAgents": CloseIfNoAgents, "ForceClose": ForceClose} {
		if got, err := ParseAfterAction(in); err != nil || got != want {
			t.Errorf("ParseAfterAction(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseAfterAction("Later"); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown action: err = %v", err)
	}
	if _, err := ParseNoticeLevel("some"); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown level: err = %v", err)
	}
}

func errOf(_ Step, err error) error { return err }

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// BenchmarkDeliverMessage measures one message sent and delivered to the two
// parties of a session (the client and the agent each get their view).
// Sessions are renewed every 100 events, the size of a long chat.
func BenchmarkDeliverMessage(b *testing.B) {
	viewers := []transcript.PartyType{transcript.Client, transcript.Agent}
	var s *Session
	b.ReportAllocs()
	for b.Loop() {
		if s == nil || s.NextPosition() > 100 {
			s = New("S1", t0, Options{SaveNotices: major2})
			s.Join(t0, transcript.Party{ID: "c", Type: transcript.Client}, "")
			s.Join(t0, transcript.Party{ID: "a", Type: transcript.Agent}, "")
		}
		pos := s.NextPosition()
		if _, err := s.Send(t0, "a", Message{Text: "hello there"}); err != nil {
			b.Fatal(err)
		}
		for _, v := range viewers {
			if len(s.Visible(pos, v)) != 1 {
				b.Fatal("not delivered")
			}
		}
	}
}

// TestStepStoreSharesEvents mixes stored and unstored events in one step:
// Store holds exactly the stored ones whether or not it shares Events'
// array, and appending to one never overwrites the other.
func TestStepStoreSharesEvents(t *testing.T) {
	s := New("s-1", t0, Options{})
	var st Step
	for i, stored := range []bool{true, true, true, true, true, false, true, false, true} {
		s.add(&st, transcript.Event{Type: transcript.Message, Text: fmt.Sprint(i)}, t0, stored)
	}
	texts := func(evs []transcript.Event) string {
		var out []string
		for _, e := range evs {
			out = append(out, e.Text)
		}
		return strings.Join(out, ",")
	}
	if got := texts(st.Events); got != "0,1,2,3,4,5,6,7,8" {
		t.Errorf("Events %s, want 0,1,2,3,4,5,6,7,8", got)
	}
	if got := texts(st.Store); got != "0,1,2,3,4,6,8" {
		t.Errorf("Store %s, want 0,1,2,3,4,6,8", got)
	}
}

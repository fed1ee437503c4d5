package chat

import (
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// TestJoinESP: an ESP party is an External party with protocol ESP, called
// "system" unless named, that ESPParty finds by nickname while present.
func TestJoinESP(t *testing.T) {
	s := fixture(t, "major2", false)
	p, st, err := s.JoinESP(t0, "sys", "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != transcript.External || p.Protocol != ESPProtocol || p.Nickname != SystemNickname || p.Visibility != transcript.VisAll {
		t.Errorf("ESP party = %+v", p)
	}
	if len(st.Store) != 1 || st.Store[0].Type != transcript.ParticipantJoined {
		t.Errorf("join step stores %+v, want the join", st.Store)
	}
	if id, ok := s.ESPParty(SystemNickname); !ok || id != "sys" {
		t.Errorf("ESPParty(system) = %q, %v", id, ok)
	}
	if _, ok := s.ESPParty("HelpBot"); ok {
		t.Error("ESPParty found a party nobody added")
	}
	ok(t)(s.Send(t0, "sys", Message{Text: "An agent will be with you shortly."}))
	ok(t)(s.Leave(t0, "sys", "sys", KeepAlive, ""))
	if _, ok := s.ESPParty(SystemNickname); ok {
		t.Error("ESPParty found a party that left")
	}
}

// TestCheckESP: a workflow acts only as the ESP parties it added.
func TestCheckESP(t *testing.T) {
	s := fixture(t, "major2", false)
	if _, _, err := s.JoinESP(t0, "bot", "HelpBot", "", nil); err != nil {
		t.Fatal(err)
	}
	mustJoin(t, s, transcript.Party{ID: "b2", Type: transcript.External, Nickname: "connected bot", Protocol: "BASIC"})
	for _, tt := range []struct {
		id   string
		want error
	}{
		{"bot", nil},
		{"c", ErrNotAllowed},
		{"a", ErrNotAllowed},
		{"b2", ErrNotAllowed},
		{"nobody", ErrNoSuchParty},
	} {
		if err := s.CheckESP(tt.id); !errors.Is(err, tt.want) {
			t.Errorf("CheckESP(%s) = %v, want %v", tt.id, err, tt.want)
		}
	}
	ok(t)(s.Leave(t0, "bot", "bot", KeepAlive, ""))
	if err := s.CheckESP("bot"); !errors.Is(err, ErrPartyLeft) {
		t.Errorf("CheckESP of a party that left = %v, want ErrPartyLeft", err)
	}
}

// TestESPPartyKeepsNoChatOpen: the chat ends when everyone but its ESP
// parties has left, as when nobody is left.
func TestESPPartyKeepsNoChatOpen(t *testing.T) {
	s := fixture(t, "major2", false)
	if _, _, err := s.JoinESP(t0, "sys", "", "", nil); err != nil {
		t.Fatal(err)
	}
	ok(t)(s.Leave(t0, "a", "a", KeepAlive, ""))
	if s.Closed() {
		t.Fatal("closed while the customer is there")
	}
	st := ok(t)(s.Leave(t0, "c", "c", KeepAlive, ""))
	if !st.Closed || !s.Closed() {
		t.Error("the chat stays open with only its ESP party present")
	}
}

// TestRestoredESPPartyStays: a restoration does not wait for an ESP party
// to rejoin (nobody would): it stays while the agent that does not come
// back is removed.
func TestRestoredESPPartyStays(t *testing.T) {
	old := fixture(t, "major2", false)
	if _, _, err := old.JoinESP(t0, "sys", "", "", nil); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(time.Minute)
	s, _, err := Restore(snapshotOf(old), now, Options{Rules: rules()})
	if err != nil {
		t.Fatal(err)
	}
	s.Touch(now.Add(40*time.Second), "c")
	st, _ := s.Tick(now.Add(45 * time.Second))
	if got := leftReasons(st); got["a"] != transcript.ReasonDisconnect || len(got) != 1 {
		t.Fatalf("left = %v, want only the agent that never came back", got)
	}
	if err := s.CheckESP("sys"); err != nil {
		t.Errorf("the restored ESP party: %v", err)
	}
}

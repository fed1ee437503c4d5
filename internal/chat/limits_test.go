package chat

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// limited is a session with a client "c" and an agent "a" under l.
func limited(t *testing.T, l Limits) *Session {
	t.Helper()
	s := New("S1", t0, Options{Rules: Rules{Limits: l}})
	mustJoin(t, s, transcript.Party{ID: "c", Type: transcript.Client, Nickname: "Ann"})
	mustJoin(t, s, transcript.Party{ID: "a", Type: transcript.Agent, Nickname: "Bob"})
	return s
}

func TestMessageLength(t *testing.T) {
	s := limited(t, Limits{MessageLength: 10})
	if _, err := s.Send(t0, "c", Message{Text: strings.Repeat("x", 10)}); err != nil {
		t.Errorf("10 bytes: %v", err)
	}
	if _, err := s.Send(t0, "c", Message{Text: strings.Repeat("x", 11)}); !errors.Is(err, ErrTooLong) {
		t.Errorf("11 bytes: %v, want ErrTooLong", err)
	}
	if _, err := s.Notify(t0, "c", Notice{Type: transcript.CustomNotice, Text: strings.Repeat("x", 11)}); !errors.Is(err, ErrTooLong) {
		t.Errorf("an 11-byte notice: %v, want ErrTooLong", err)
	}
}

// TestTranscriptFull fills a session to its event and byte limits: the
// parties' next event is refused, the events the server adds are not, and
// the session still ends.
func TestTranscriptFull(t *testing.T) {
	for _, tt := range []struct {
		name string
		l    Limits
	}{
		{"events", Limits{Events: 6}},          // 2 joins + 4 messages
		{"bytes", Limits{TranscriptSize: 400}}, // joins count no text
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := limited(t, tt.l)
			for i := range 4 {
				if _, err := s.Send(t0, "c", Message{Text: strings.Repeat("x", 100)}); err != nil {
					t.Fatalf("message %d: %v", i+1, err)
				}
			}
			if _, err := s.Send(t0, "a", Message{Text: strings.Repeat("y", 100)}); !errors.Is(err, ErrTranscriptFull) {
				t.Errorf("message past the limit: %v, want ErrTranscriptFull", err)
			}
			st, err := s.Leave(t0, "c", "c", KeepAlive, "")
			if err != nil || len(st.Events) == 0 {
				t.Errorf("leave of a full session: %+v %v", st, err)
			}
		})
	}
}

// TestPartyRate lets a party send its burst at once and then its rate,
// per party: another party is not slowed by the first one's flood.
func TestPartyRate(t *testing.T) {
	s := limited(t, Limits{PartyRate: 2, PartyBurst: 4})
	now := t0
	for i := range 4 {
		if _, err := s.Send(now, "c", Message{Text: "hi"}); err != nil {
			t.Fatalf("burst message %d: %v", i+1, err)
		}
	}
	if _, err := s.Send(now, "c", Message{Text: "hi"}); !errors.Is(err, ErrTooFast) {
		t.Fatalf("fifth message at once: %v, want ErrTooFast", err)
	}
	if _, err := s.Notify(now, "c", Notice{Type: transcript.TypingStarted}); !errors.Is(err, ErrTooFast) {
		t.Errorf("a notice past the rate: %v, want ErrTooFast", err)
	}
	if _, err := s.Send(now, "a", Message{Text: "hello"}); err != nil {
		t.Errorf("the agent, while the client floods: %v", err)
	}
	now = now.Add(500 * time.Millisecond) // one token back at 2 per second
	if _, err := s.Send(now, "c", Message{Text: "hi"}); err != nil {
		t.Errorf("after half a second: %v", err)
	}
	if _, err := s.Send(now, "c", Message{Text: "hi"}); !errors.Is(err, ErrTooFast) {
		t.Errorf("a second one in the same instant: %v, want ErrTooFast", err)
	}
}

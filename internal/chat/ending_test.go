package chat

import (
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// TestEndingStopPolicy: each way a chat ends, and which
// stop-abandoned-interaction values stop its interaction. A bot is no agent.
func TestEndingStopPolicy(t *testing.T) {
	client := transcript.Party{ID: "c", Type: transcript.Client, Nickname: "Ann"}
	agent := transcript.Party{ID: "a", Type: transcript.Agent, Nickname: "Bob"}
	bot := transcript.Party{ID: "b", Type: transcript.External, Nickname: "Bot"}
	for _, tc := range []struct {
		name    string
		joins   []transcript.Party
		leaves  []string // in order, each with CloseIfNoAgents, until the session closes
		stopped map[StopPolicy]bool
	}{
		{"abandoned in the queue", []transcript.Party{client}, []string{"c"},
			map[StopPolicy]bool{StopNever: false, StopAlways: true, StopNoAgents: true, StopNoAnswer: true}},
		{"customer leaves its agent", []transcript.Party{client, agent}, []string{"c", "a"},
			map[StopPolicy]bool{StopNever: false, StopAlways: true, StopNoAgents: false, StopNoAnswer: false}},
		{"agent leaves first", []transcript.Party{client, agent}, []string{"a"},
			map[StopPolicy]bool{StopNever: false, StopAlways: true, StopNoAgents: true, StopNoAnswer: false}},
		{"customer leaves a bot", []transcript.Party{client, bot}, []string{"c", "b"},
			map[StopPolicy]bool{StopNever: false, StopAlways: true, StopNoAgents: true, StopNoAnswer: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New("S1", t0, Options{})
			for _, p := range tc.joins {
				mustJoin(t, s, p)
			}
			for _, id := range tc.leaves {
				if s.Closed() {
					break
				}
				if _, err := s.Leave(t0.Add(time.Minute), id, id, CloseIfNoAgents, ""); err != nil {
					t.Fatal(err)
				}
			}
			if !s.Closed() {
				t.Fatal("session still open")
			}
			e := EndingOf(s.Stored(), s.CreatedAt(), s.EndedAt())
			for p, want := range tc.stopped {
				if got := e.Stop(p); got != want {
					t.Errorf("%s: stop = %v, want %v (ending %+v)", p, got, want, e)
				}
			}
		})
	}
}

// TestEndingStatistics: fired attaches what happened, all attaches every
// statistic, none nothing.
func TestEndingStatistics(t *testing.T) {
	s := New("S1", t0, Options{})
	mustJoin(t, s, transcript.Party{ID: "c", Type: transcript.Client, Nickname: "Ann"})
	if _, err := s.Send(t0, "c", Message{Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Join(t0.Add(30*time.Second), transcript.Party{ID: "a", Type: transcript.Agent, Nickname: "Bob"}, "hi"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Leave(t0.Add(90*time.Second), "c", "c", KeepAlive, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Leave(t0.Add(100*time.Second), "a", "a", ForceClose, ""); err != nil {
		t.Fatal(err)
	}
	e := EndingOf(s.Stored(), s.CreatedAt(), s.EndedAt())
	fired := map[string]string{StatDuration: "100", StatAnswerDelay: "30", StatAgentsJoined: "1",
		StatClientMessages: "1", StatAgentMessages: "1"}
	if got := e.Attach("fired"); !maps.Equal(got, fired) {
		t.Errorf("fired = %v, want %v", got, fired)
	}
	all := e.Attach("all")
	if len(all) != len(e.Stats) || all[StatAbandoned] != "0" || all[StatBotsJoined] != "0" {
		t.Errorf("all = %v", all)
	}
	if got := e.Attach("none"); len(got) != 0 {
		t.Errorf("none = %v", got)
	}
}

func TestParseStopPolicy(t *testing.T) {
	for in, want := range map[string]StopPolicy{"never": StopNever, "always": StopAlways, "noagents": StopNoAgents,
		"noanswer": StopNoAnswer, "false": StopNever, "true": StopNoAnswer} {
		if got, err := ParseStopPolicy(in); got != want || err != nil {
			t.Errorf("%q = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseStopPolicy("sometimes"); !errors.Is(err, ErrInvalid) {
		t.Errorf("sometimes: err = %v, want ErrInvalid", err)
	}
}

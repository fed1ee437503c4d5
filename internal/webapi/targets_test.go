package webapi

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// msgs returns ALL-visible messages with the given indexes; a negative
// index is an INT message at its absolute value.
func msgs(idx ...int) []transcript.APIMessage {
	out := make([]transcript.APIMessage, len(idx))
	for i, n := range idx {
		out[i] = transcript.APIMessage{Index: n, Visibility: transcript.VisAll}
		if n < 0 {
			out[i] = transcript.APIMessage{Index: -n, Visibility: transcript.VisInt}
		}
	}
	return out
}

func indexes(ms []transcript.APIMessage) string {
	out := []int{}
	for _, m := range ms {
		out = append(out, m.Index)
	}
	return fmt.Sprint(out)
}

func TestRESTTargetAnswers(t *testing.T) {
	// step is a push ("push"), a subscription reply from a position
	// ("reset"), or a refresh from a position ("answer").
	type step struct {
		kind string
		pos  int
		idx  []int
		next int
		// for answer: whether it is answered, the indexes and nextPosition
		ok   bool
		want string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"nothing before the subscription reply", []step{
			{kind: "answer", pos: 1, ok: false},
		}},
		{"reply then idle polls", []step{
			{kind: "reset", pos: 1, idx: []int{1, 2}, next: 3},
			{kind: "answer", pos: 1, ok: true, want: "[1 2] 3"},
			{kind: "answer", pos: 3, ok: true, want: "[] 3"},
			{kind: "answer", pos: 3, ok: true, want: "[] 3"},
		}},
		{"pushes extend the buffer, INT never kept", []step{
			{kind: "reset", pos: 1, idx: []int{1}, next: 2},
			{kind: "push", idx: []int{2, -3}, next: 4},
			{kind: "push", idx: []int{4}, next: 5},
			{kind: "answer", pos: 2, ok: true, want: "[2 4] 5"},
		}},
		{"a position before the buffer or past its end misses", []step{
			{kind: "reset", pos: 3, idx: []int{3}, next: 4},
			{kind: "answer", pos: 2, ok: false},
			{kind: "answer", pos: 5, ok: false},
			{kind: "answer", pos: 4, ok: true, want: "[] 4"},
			{kind: "answer", pos: 3, ok: false}, // forgotten once the client moved on
		}},
		{"a push taken before the reply is kept when newer", []step{
			{kind: "push", idx: []int{5}, next: 6},
			{kind: "reset", pos: 1, idx: []int{1, 2, 4}, next: 5},
			{kind: "answer", pos: 1, ok: true, want: "[1 2 4 5] 6"},
		}},
		{"a repeated push is not repeated", []step{
			{kind: "reset", pos: 1, idx: []int{1}, next: 2},
			{kind: "push", idx: []int{2}, next: 3},
			{kind: "push", idx: []int{2}, next: 3},
			{kind: "answer", pos: 1, ok: true, want: "[1 2] 3"},
		}},
		{"position 0 means 1", []step{
			{kind: "reset", pos: 0, idx: []int{1}, next: 2},
			{kind: "answer", pos: 0, ok: true, want: "[1] 2"},
		}},
	}
	now := time.Unix(1000, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRESTTarget("key", time.Minute, now)
			for i, s := range tt.steps {
				st := status{Messages: msgs(s.idx...), NextPosition: s.next}
				switch s.kind {
				case "push":
					rt.push(st)
				case "reset":
					rt.reset(s.pos, st, now)
				case "answer":
					got, ok := rt.answer(s.pos, now)
					if ok != s.ok || ok && fmt.Sprint(indexes(got.Messages), " ", got.NextPosition) != s.want {
						t.Errorf("step %d: answer(%d) = %s %d, %v; want %s, %v", i, s.pos,
							indexes(got.Messages), got.NextPosition, ok, s.want, s.ok)
					}
				}
			}
		})
	}
}

func TestRESTTargetOverflowAndLiveness(t *testing.T) {
	now := time.Unix(1000, 0)
	rt := newRESTTarget("key", 30*time.Second, now)
	rt.reset(1, status{Messages: msgs(1), NextPosition: 2}, now)
	for i := 2; i <= maxBuffered+1; i++ {
		rt.push(status{Messages: msgs(i), NextPosition: i + 1})
	}
	if _, ok := rt.answer(1, now); ok {
		t.Error("an overflowing buffer still answers")
	}
	if !rt.alive(now.Add(29*time.Second)) || rt.alive(now.Add(30*time.Second)) {
		t.Error("alive does not follow rest-subscription-idle")
	}
	if !rt.keyMatches("key") || rt.keyMatches("Key") || rt.keyMatches("") {
		t.Error("keyMatches")
	}
}

func TestTargetsTable(t *testing.T) {
	ts := newTargets()
	k := partyKey{"S1", "U1"}
	now := time.Unix(1000, 0)
	live := &subscription{t: newRESTTarget("k", time.Minute, now)}
	ts.put(k, live)
	if !ts.alive(k, now) || ts.alive(partyKey{"S1", "U2"}, now) {
		t.Error("alive")
	}
	ts.remove(k, &subscription{}) // not the current one: kept
	if ts.get(k) != live {
		t.Error("remove dropped another subscription")
	}
	if got := ts.expired(now.Add(2 * time.Minute)); len(got) != 1 || got[0] != live || ts.get(k) != nil {
		t.Errorf("expired = %v", got)
	}
}

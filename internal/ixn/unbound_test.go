package ixn

import (
	"slices"
	"testing"
	"time"
)

// TestUnjoinedChatDoesNotStorm replays issue 21's invitation storm: a
// ready agent accepts a chat whose chat server died, cannot join it, and
// gives it back, as fast as it is invited, for 10 s. Giving it back as
// unjoined must back off (the agent is excluded, routing skips the
// interaction); a plain leave is the storm.
func TestUnjoinedChatDoesNotStorm(t *testing.T) {
	tests := []struct {
		name   string
		agents []string
		give   func(f *fixture, agent string) (Output, error)
		max    int
	}{
		{"one agent", []string{"alice"}, func(f *fixture, a string) (Output, error) { return f.e.LeaveUnjoined(f.now, a, "i1") }, 1},
		{"two agents", []string{"alice", "bob"}, func(f *fixture, a string) (Output, error) { return f.e.LeaveUnjoined(f.now, a, "i1") }, 2},
		// What the bridge did before: the storm, so the test can tell.
		{"plain leave storms", []string{"alice"}, func(f *fixture, a string) (Output, error) { return f.e.LeaveInteraction(f.now, a, "i1") }, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfgs []AgentConfig
			for _, a := range tt.agents {
				cfgs = append(cfgs, agentCfg(a, 1, ""))
			}
			f := newFixture(t, cfgs...)
			for _, a := range tt.agents {
				f.login(a)
			}
			invited := 0
			pending := map[string]bool{}
			count := func(o Output) {
				for _, a := range tt.agents {
					if slices.Contains(invites(o, a), "i1") {
						invited++
						pending[a] = true
					}
				}
			}
			count(f.submit("i1", "default", nil))
			end := f.now.Add(10 * time.Second)
			for f.now.Before(end) {
				for _, a := range tt.agents {
					if !pending[a] {
						continue
					}
					delete(pending, a)
					f.must(f.e.Accept(f.now, a, "i1"))
					count(f.must(tt.give(f, a)))
				}
				f.now = f.now.Add(10 * time.Millisecond)
				count(f.e.Tick(f.now))
			}
			switch {
			case tt.max < 0 && invited < 100:
				t.Errorf("plain leave: %d invitations in 10 s, want the storm this test guards against", invited)
			case tt.max >= 0 && invited > tt.max:
				t.Errorf("%d invitations in 10 s, want at most %d", invited, tt.max)
			}
		})
	}
}

// TestUnjoinedChatRoutedOnceRelocated checks that routing resumes, to the
// agent that could not join before, as soon as a chat server says where
// the chat lives now (ChatServerApplication), and that the back-off grows.
func TestUnjoinedChatRoutedOnceRelocated(t *testing.T) {
	f := newFixture(t, agentCfg("alice", 1, ""), agentCfg("bob", 1, ""))
	f.login("alice")
	f.now = f.now.Add(time.Second)
	f.login("bob")
	f.submit("i1", "default", nil)
	f.must(f.e.Accept(f.now, "alice", "i1"))
	o := f.must(f.e.LeaveUnjoined(f.now, "alice", "i1"))
	if len(invites(o, "bob")) != 0 || f.state("i1").State != StateQueued {
		t.Fatalf("invited at once after a failed join: %+v", o.Notices)
	}
	if d, ok := f.e.NextDeadline(); !ok || !d.Equal(f.now.Add(unboundFirst)) {
		t.Errorf("next deadline %v %v, want the end of the back-off", d, ok)
	}
	f.now = f.now.Add(unboundFirst)
	if o := f.e.Tick(f.now); !slices.Equal(invites(o, "bob"), []string{"i1"}) {
		t.Fatalf("after the back-off, want bob invited: %+v", o.Notices)
	}
	f.must(f.e.Accept(f.now, "bob", "i1"))
	f.must(f.e.LeaveUnjoined(f.now, "bob", "i1"))
	if d, _ := f.e.NextDeadline(); !d.Equal(f.now.Add(2 * unboundFirst)) {
		t.Errorf("second back-off ends %v, want %v", d, f.now.Add(2*unboundFirst))
	}
	f.now = f.now.Add(10 * time.Second) // back-off over, both still excluded
	if o := f.e.Tick(f.now); len(invites(o, "alice"))+len(invites(o, "bob")) != 0 {
		t.Fatalf("both agents excluded, yet invited: %+v", o.Notices)
	}
	o = f.must(f.e.ChangeProperties(f.now, Actor{Client: "chat-2"}, "i1", map[string]string{PropChatServerApplication: "chat-2"}, nil, nil))
	if got := append(invites(o, "alice"), invites(o, "bob")...); !slices.Equal(got, []string{"i1"}) {
		t.Errorf("relocation: want one invitation at once, got %v", got)
	}
}

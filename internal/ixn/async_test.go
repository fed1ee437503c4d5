package ixn

import (
	"slices"
	"strconv"
	"testing"
	"time"
)

// asyncFixture is an engine whose async chats wait for their last agent at
// most timeout (zero: no limit), with a check view that sends chats whose
// GCTI_Chat_AsyncCheckAt has passed to anyone. alice holds i1 until she
// puts it in her workbin, then takes i2, which fills her capacity; bob is
// free.
func asyncFixture(t *testing.T, timeout time.Duration) *fixture {
	t.Helper()
	e, err := New(Config{
		Queues: []Queue{{Name: "default", Routing: RoutingBuiltin}},
		Views: []View{{Name: "check", Queue: "default", Condition: "GCTI_Chat_AsyncCheckAt < _current_time()",
			CheckInterval: 10 * time.Second, Action: ActionRoute}},
		Agents:        []AgentConfig{agentCfg("alice", 1, ""), agentCfg("bob", 1, "")},
		InviteTimeout: 30 * time.Second, AsyncLastAgentAttempts: 2, AsyncLastAgentTimeout: timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, e: e, now: t0}
	e.Restore(f.now, nil, 0)
	f.login("alice")
	f.submit("i1", "default", map[string]string{"GCTI_Chat_AsyncCheckAt": strconv.FormatInt(t0.Add(time.Hour).Unix(), 10)})
	f.must(f.e.Accept(f.now, "alice", "i1"))
	f.must(f.e.PlaceInWorkbin(f.now, "alice", "i1", "async"))
	f.submit("i2", "default", nil)
	f.must(f.e.Accept(f.now, "alice", "i2"))
	f.login("bob")
	return f
}

// wake is customer activity on i1: it leaves the workbin for alice, who is
// busy.
func (f *fixture) wake() Output {
	f.t.Helper()
	return f.must(f.e.ChangeProperties(f.now, Actor{Client: "chat-1"}, "i1", map[string]string{PropAsyncStatus: "2"}, nil, nil))
}

func TestAsyncLastAgentTimeout(t *testing.T) {
	f := asyncFixture(t, 5*time.Minute)
	if o := f.wake(); len(invites(o, "bob")) != 0 {
		t.Fatalf("bob invited while i1 waits for alice: %+v", o.Notices)
	}
	f.now = f.now.Add(5*time.Minute - time.Second)
	if o := f.e.Tick(f.now); len(invites(o, "bob")) != 0 {
		t.Fatalf("bob invited before the timeout: %+v", o.Notices)
	}
	f.now = f.now.Add(time.Second)
	if o := f.e.Tick(f.now); !slices.Equal(invites(o, "bob"), []string{"i1"}) {
		t.Fatalf("after async-last-agent-timeout i1 goes to anyone: %+v", o.Notices)
	}
	if in := f.state("i1"); in.PreferAgent != "" {
		t.Errorf("still waiting for %s", in.PreferAgent)
	}
}

// TestCheckViewRoutesAChatWaitingForItsLastAgent: with no timeout, the check
// view (action route) sends a chat whose GCTI_Chat_AsyncCheckAt passed to
// any agent, when it waits for a last agent who never gets free.
func TestCheckViewRoutesAChatWaitingForItsLastAgent(t *testing.T) {
	f := asyncFixture(t, 0)
	f.wake()
	f.now = f.now.Add(30 * time.Minute)
	if o := f.e.Tick(f.now); len(invites(o, "bob")) != 0 {
		t.Fatalf("bob invited before GCTI_Chat_AsyncCheckAt: %+v", o.Notices)
	}
	f.now = f.now.Add(31 * time.Minute)
	if o := f.e.Tick(f.now); !slices.Equal(invites(o, "bob"), []string{"i1"}) {
		t.Fatalf("the check view did not route i1 to anyone: %+v", o.Notices)
	}
}

// TestEstimatedWaitGrowsWithPosition: each waiting chat's estimate is the
// queue's average handle time times its position, over the ready agents'
// chat capacity.
func TestEstimatedWaitGrowsWithPosition(t *testing.T) {
	f := newFixture(t, agentCfg("alice", 1, ""), agentCfg("bob", 1, ""))
	f.login("alice")
	f.login("bob")
	for _, id := range []string{"h1", "h2"} {
		f.submit(id, "default", nil)
	}
	f.must(f.e.Accept(f.now, "alice", "h1"))
	f.must(f.e.Accept(f.now, "bob", "h2"))
	f.now = f.now.Add(100 * time.Second)
	f.must(f.e.Stop(f.now, Actor{Agent: "alice"}, "h1", "done")) // handled 100 s
	for _, id := range []string{"w1", "w2", "w3"} {              // w1 goes to alice
		f.submit(id, "default", nil)
	}
	for i, id := range []string{"w2", "w3"} {
		p := f.state(id).Properties
		want := strconv.Itoa((i + 1) * 100 / 2) // two ready seats
		if p[PropQueuePosition] != strconv.Itoa(i+1) || p[PropEstimatedWaitTime] != want {
			t.Errorf("%s: position %s, estimate %s; want %d and %s", id, p[PropQueuePosition], p[PropEstimatedWaitTime], i+1, want)
		}
	}
}

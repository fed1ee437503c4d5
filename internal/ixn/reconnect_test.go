package ixn

import (
	"slices"
	"testing"
	"time"
)

// reconnectTimeout is the AgentReconnectTimeout of these tests.
const reconnectTimeout = 2 * time.Minute

func newReconnectFixture(t *testing.T, agents ...AgentConfig) *fixture {
	t.Helper()
	e, err := New(Config{Queues: []Queue{{Name: "default", Routing: RoutingBuiltin}}, Agents: agents,
		InviteTimeout: 30 * time.Second, RerouteExclude: 60 * time.Second, AgentReconnectTimeout: reconnectTimeout})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, e: e, now: t0}
	e.Restore(f.now, nil, 0)
	return f
}

// load returns the load the supervisor sees for a logged-in agent.
func (f *fixture) load(agent string) int {
	f.t.Helper()
	for _, a := range f.e.Overview(f.now).Agents {
		if a.ID == agent {
			return a.Load
		}
	}
	f.t.Fatalf("%s is not logged in", agent)
	return 0
}

func heldIDs(list []Interaction) []string {
	var ids []string
	for _, in := range list {
		ids = append(ids, in.ID)
	}
	return ids
}

// tick runs the engine's timers up to now, as the server does.
func (f *fixture) tick() Output {
	var all Output
	for {
		next, ok := f.e.NextDeadline()
		if !ok || next.After(f.now) {
			return all
		}
		o := f.e.Tick(f.now)
		all.Notices = append(all.Notices, o.Notices...)
		all.Batch.Events = append(all.Batch.Events, o.Batch.Events...)
	}
}

// TestAgentGetsItsChatsBackAfterReconnect: an agent whose connection drops
// while it holds chats logs in again within agent-reconnect-timeout and
// holds the same chats, listed by Held, with its load counted from them;
// the timeout then releases nothing.
func TestAgentGetsItsChatsBackAfterReconnect(t *testing.T) {
	f := newReconnectFixture(t, agentCfg("alice", 2, ""), agentCfg("bob", 2, ""))
	f.login("alice")
	f.submit("i1", "default", nil)
	f.must(f.e.Accept(f.now, "alice", "i1"))
	f.must(f.e.Logout(f.now, "alice"))

	f.now = f.now.Add(reconnectTimeout - time.Second)
	f.tick()
	f.login("alice")
	if got := heldIDs(f.e.Held("alice")); !slices.Equal(got, []string{"i1"}) {
		t.Fatalf("alice holds %v after logging in again, want [i1]", got)
	}
	if n := f.load("alice"); n != 1 {
		t.Errorf("alice's load = %d, want 1", n)
	}
	f.login("bob")
	f.now = f.now.Add(time.Hour)
	f.tick()
	if in := f.state("i1"); in.State != StateHandling || !slices.Equal(in.Agents, []string{"alice"}) {
		t.Errorf("i1 after alice came back = %+v, want handled by alice", in)
	}
}

// TestAgentThatDoesNotComeBackLeavesItsChats: once agent-reconnect-timeout
// has passed, the chats a logged-out agent held go back to their queue and
// to another agent; the agent that logs in later holds none and has room
// for new ones.
func TestAgentThatDoesNotComeBackLeavesItsChats(t *testing.T) {
	f := newReconnectFixture(t, agentCfg("alice", 1, ""), agentCfg("bob", 1, ""))
	f.login("alice")
	f.submit("i1", "default", nil)
	f.must(f.e.Accept(f.now, "alice", "i1"))
	f.must(f.e.Logout(f.now, "alice"))
	f.login("bob")

	f.now = f.now.Add(reconnectTimeout)
	o := f.tick()
	if got := invites(o, "bob"); !slices.Equal(got, []string{"i1"}) {
		t.Fatalf("bob invited to %v after alice's timeout, want [i1]; events %v", got, names(o))
	}
	if in := f.state("i1"); len(in.Agents) != 0 || in.State != StateRouting {
		t.Errorf("i1 = %+v, want routed again without holders", in)
	}
	f.login("alice")
	if got := f.e.Held("alice"); len(got) != 0 {
		t.Errorf("alice still holds %v", heldIDs(got))
	}
	if n := f.load("alice"); n != 0 {
		t.Errorf("alice's load = %d, want 0", n)
	}
}

// TestRestoreKeepsChatsForTheirAgents: after a restart (or a switchover
// to the backup), the chats agents held wait for them for
// agent-reconnect-timeout; an agent that logs in gets its own back and no
// invitation beyond its capacity, one that does not loses them to others.
func TestRestoreKeepsChatsForTheirAgents(t *testing.T) {
	f := newReconnectFixture(t, agentCfg("alice", 1, ""), agentCfg("bob", 1, ""), agentCfg("carol", 2, ""))
	stored := []Interaction{
		{ID: "a1", MediaType: "chat", State: StateHandling, Queue: "default", Agents: []string{"alice"}, SubmittedBy: "chat-1"},
		{ID: "b1", MediaType: "chat", State: StateHandling, Queue: "default", Agents: []string{"bob"}, SubmittedBy: "chat-1"},
	}
	f.e, _ = New(f.e.cfg)
	f.e.Restore(f.now, stored, 10)
	if next, ok := f.e.NextDeadline(); !ok || !next.Equal(f.now.Add(reconnectTimeout)) {
		t.Errorf("next deadline %v %v, want the agents' time to come back", next, ok)
	}
	f.login("alice")
	f.login("carol")
	if got := heldIDs(f.e.Held("alice")); !slices.Equal(got, []string{"a1"}) {
		t.Fatalf("alice holds %v, want [a1]", got)
	}
	if n := f.load("alice"); n != 1 {
		t.Errorf("alice's load = %d, want 1", n)
	}
	o := f.submit("n1", "default", nil)
	if got := invites(o, "alice"); len(got) != 0 {
		t.Errorf("alice, at capacity with a1, invited to %v", got)
	}

	f.now = f.now.Add(reconnectTimeout)
	f.tick()
	if in := f.state("b1"); slices.Contains(in.Agents, "bob") {
		t.Errorf("b1 still held by bob, who never came back: %+v", in)
	}
	if in := f.state("a1"); !slices.Equal(in.Agents, []string{"alice"}) {
		t.Errorf("a1 = %+v, want alice's", in)
	}
}

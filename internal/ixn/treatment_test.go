package ixn

import (
	"testing"
	"time"
)

// treatmentFixture is an engine whose queue "q" greets and reminds every
// minute, and whose queue "plain" does neither.
func treatmentFixture(t *testing.T, agents ...AgentConfig) *fixture {
	t.Helper()
	e, err := New(Config{Queues: []Queue{
		{Name: "q", Routing: RoutingBuiltin, Greeting: "Welcome!", WaitingNotice: "Still waiting, sorry.", WaitingInterval: time.Minute},
		{Name: "plain", Routing: RoutingBuiltin},
	}, Agents: agents, InviteTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, e: e, now: t0}
	e.Restore(f.now, nil, 0)
	return f
}

func said(o Output) []string {
	var texts []string
	for _, s := range o.Services {
		texts = append(texts, s.InteractionID+":"+s.Method+":"+s.Parameters["MessageText"])
	}
	return texts
}

func TestQueueGreetsAndReminds(t *testing.T) {
	f := treatmentFixture(t)
	if got := said(f.submit("I1", "q", nil)); len(got) != 1 || got[0] != "I1:Message:Welcome!" {
		t.Fatalf("submit asked for %v, want the greeting", got)
	}
	if got := said(f.submit("I2", "plain", nil)); len(got) != 0 {
		t.Errorf("a queue without treatments asked for %v", got)
	}
	next, ok := f.e.NextDeadline()
	if !ok || !next.Equal(t0.Add(time.Minute)) {
		t.Fatalf("next deadline = %v %v, want the first reminder at %v", next, ok, t0.Add(time.Minute))
	}
	if got := said(f.e.Tick(t0.Add(59 * time.Second))); len(got) != 0 {
		t.Errorf("a reminder before its time: %v", got)
	}
	for i, at := range []time.Duration{time.Minute, 2*time.Minute + time.Second} {
		got := said(f.e.Tick(t0.Add(at)))
		if len(got) != 1 || got[0] != "I1:Message:Still waiting, sorry." {
			t.Errorf("tick %d asked for %v, want one reminder", i, got)
		}
		if got := said(f.e.Tick(t0.Add(at))); len(got) != 0 {
			t.Errorf("tick %d again asked for %v, want nothing", i, got)
		}
	}
}

func TestReminderStopsWhenRouted(t *testing.T) {
	f := treatmentFixture(t, agentCfg("alice", 1, ""))
	f.submit("I1", "q", nil)
	f.login("alice")
	if st := f.state("I1"); st.State == StateQueued {
		t.Fatalf("not routed: %+v", st)
	}
	if got := said(f.e.Tick(t0.Add(5 * time.Minute))); len(got) != 0 {
		t.Errorf("a routed interaction is reminded: %v", got)
	}
}

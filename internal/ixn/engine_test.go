package ixn

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fixture is an engine with a clock.
type fixture struct {
	t   *testing.T
	e   *Engine
	now time.Time
}

func agentCfg(id string, capacity int, skills string) AgentConfig {
	sk, err := ParseSkills(skills)
	if err != nil {
		panic(err)
	}
	return AgentConfig{ID: id, PasswordHash: HashPassword(id, "parley-test-salt-"+id, MinPasswordIterations), Place: "place-" + id, Capacity: capacity, Skills: sk}
}

func newFixture(t *testing.T, agents ...AgentConfig) *fixture {
	t.Helper()
	e, err := New(Config{
		Queues: []Queue{{Name: "default", Routing: RoutingBuiltin}, {Name: "ext", Routing: RoutingExternal}},
		Views: []View{
			{Name: "check", Queue: "default", Condition: "GCTI_Chat_AsyncCheckAt < _current_time()", CheckInterval: 10 * time.Second, Action: ActionStop},
			{Name: "vip", Queue: "ext", Condition: "Vip = 'yes'", Order: "Priority desc"},
		},
		Agents:        agents,
		InviteTimeout: 30 * time.Second, RerouteExclude: 60 * time.Second, AsyncLastAgentAttempts: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, e: e, now: t0}
	e.Restore(f.now, nil, 0)
	return f
}

func (f *fixture) must(o Output, err error) Output {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
	return o
}

func (f *fixture) login(id string) {
	f.t.Helper()
	cred, err := f.e.Authenticate(id, id)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, _, err := f.e.Login(f.now, cred, "", -1); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) submit(id, queue string, props map[string]string) Output {
	f.t.Helper()
	return f.must(f.e.Submit(f.now, Submission{ID: id, Queue: queue, Properties: props, SubmittedBy: "chat-1"}))
}

func (f *fixture) state(id string) Interaction {
	f.t.Helper()
	in, ok := f.e.Interaction(id)
	if !ok {
		f.t.Fatalf("no interaction %s", id)
	}
	return in
}

// invites returns the interactions o invites agent to.
func invites(o Output, agent string) []string {
	var ids []string
	for _, n := range o.Notices {
		if n.Name == "EventInvite" && slices.Contains(n.To, Target{Agent: agent}) {
			ids = append(ids, n.Body.InteractionID)
		}
	}
	return ids
}

func names(o Output) []string {
	var s []string
	for _, ev := range o.Batch.Events {
		s = append(s, ev.Name)
	}
	return s
}

func TestSubmitRoutesToLongestIdle(t *testing.T) {
	f := newFixture(t, agentCfg("alice", 1, ""), agentCfg("bob", 1, ""))
	f.login("bob")
	f.now = f.now.Add(time.Second)
	f.login("alice")
	o := f.submit("i1", "default", nil)
	if got := invites(o, "bob"); !slices.Equal(got, []string{"i1"}) {
		t.Fatalf("bob invited to %v, want [i1] (idle longest)", got)
	}
	want := []string{"EventInteractionSubmitted", "EventPlacedInQueue", "EventAgentInvited"}
	if !slices.Equal(names(o), want) {
		t.Errorf("reports %v, want %v", names(o), want)
	}
	if len(o.Batch.Saves) != 1 || o.Batch.Saves[0].State != StateRouting {
		t.Errorf("saves %+v", o.Batch.Saves)
	}
	o = f.must(f.e.Accept(f.now, "bob", "i1"))
	if in := f.state("i1"); in.State != StateHandling || !slices.Equal(in.Agents, []string{"bob"}) {
		t.Errorf("after accept: %+v", in)
	}
	if _, err := f.e.Accept(f.now, "bob", "i1"); !errors.Is(err, ErrNoInvitation) {
		t.Errorf("second accept: %v", err)
	}
	o = f.submit("i2", "default", nil)
	if got := invites(o, "alice"); !slices.Equal(got, []string{"i2"}) {
		t.Errorf("alice invited to %v", got)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	f := newFixture(t, agentCfg("alice", 1, ""))
	f.submit("i1", "default", nil)
	tests := []struct {
		name string
		err  error
		run  func() error
	}{
		{"duplicate", ErrDuplicateInteraction, func() error {
			_, err := f.e.Submit(f.now, Submission{ID: "i1", Queue: "default", SubmittedBy: "c"})
			return err
		}},
		{"unknown queue", ErrNoSuchQueue, func() error {
			_, err := f.e.Submit(f.now, Submission{ID: "i2", Queue: "nope", SubmittedBy: "c"})
			return err
		}},
		{"no id", ErrInvalid, func() error { _, err := f.e.Submit(f.now, Submission{Queue: "default", SubmittedBy: "c"}); return err }},
		{"bad skill", ErrInvalid, func() error {
			_, err := f.e.Submit(f.now, Submission{ID: "i3", Queue: "default", SubmittedBy: "c", Properties: map[string]string{"RequiredSkill": "x:y"}})
			return err
		}},
		{"unknown interaction", ErrNoSuchInteraction, func() error { _, err := f.e.Stop(f.now, Actor{Client: "c"}, "zz", ""); return err }},
		{"bad password", ErrLoginFailed, func() error { _, err := f.e.Authenticate("alice", "bob"); return err }},
		{"unknown agent", ErrLoginFailed, func() error { _, err := f.e.Authenticate("carol", "carol"); return err }},
		{"no credential", ErrLoginFailed, func() error { _, _, err := f.e.Login(f.now, Credential{}, "", -1); return err }},
		{"not logged in", ErrNotLoggedIn, func() error { _, err := f.e.Accept(f.now, "alice", "i1"); return err }},
		{"requeue to unknown", ErrNoSuchQueue, func() error { _, err := f.e.PlaceInQueue(f.now, Actor{Client: "c"}, "i1", "nope"); return err }},
		{"unknown view", ErrNoSuchView, func() error { _, _, err := f.e.Pull(f.now, Actor{Client: "r"}, "nope", "", 1); return err }},
	}
	before := f.state("i1")
	last := f.e.LastEventID()
	for _, tt := range tests {
		if err := tt.run(); !errors.Is(err, tt.err) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.err)
		}
	}
	if after := f.state("i1"); after.State != before.State || f.e.LastEventID() != last {
		t.Errorf("bad input changed something: %+v, events %d -> %d", after, last, f.e.LastEventID())
	}
	if n, _ := f.e.Counts(); n != 1 {
		t.Errorf("%d interactions", n)
	}
}

func TestRejectAndTimeoutReroute(t *testing.T) {
	f := newFixture(t, agentCfg("alice", 1, ""), agentCfg("bob", 1, ""))
	f.login("alice")
	f.now = f.now.Add(time.Second)
	f.login("bob")
	o := f.submit("i1", "default", nil)
	if !slices.Equal(invites(o, "alice"), []string{"i1"}) {
		t.Fatalf("want alice invited: %v", o.Notices)
	}
	o = f.must(f.e.Reject(f.now, "alice", "i1"))
	if !slices.Equal(invites(o, "bob"), []string{"i1"}) {
		t.Fatalf("after reject, want bob invited: %+v", o.Notices)
	}
	if d, ok := f.e.NextDeadline(); !ok || !d.Equal(t0.Add(10*time.Second)) {
		t.Errorf("next deadline %v %v, want the view check", d, ok)
	}
	f.now = f.now.Add(30 * time.Second)
	o = f.e.Tick(f.now)
	revoked := slices.ContainsFunc(o.Notices, func(n Notice) bool {
		return n.Name == "EventRevoked" && n.To[0] == Target{Agent: "bob"}
	})
	if !revoked || !slices.Contains(names(o), "EventRevoked") {
		t.Errorf("timeout: no EventRevoked to bob: %+v", o.Notices)
	}
	if in := f.state("i1"); in.State != StateQueued {
		t.Errorf("both agents excluded, state %s, want queued", in.State)
	}
	f.now = f.now.Add(31 * time.Second) // alice's exclusion (from the reject) is over
	o = f.e.Tick(f.now)
	if !slices.Equal(invites(o, "alice"), []string{"i1"}) {
		t.Errorf("after exclusion: %+v", o.Notices)
	}
	if _, err := f.e.Accept(f.now, "bob", "i1"); !errors.Is(err, ErrNoInvitation) {
		t.Errorf("accept of a revoked invitation: %v", err)
	}
}

func TestSkillsAndPositions(t *testing.T) {
	f := newFixture(t, agentCfg("alice", 1, "billing:2"), agentCfg("bob", 1, "billing:5"))
	f.login("alice")
	f.login("bob")
	o := f.submit("i1", "default", map[string]string{"RequiredSkill": "billing:4"})
	if !slices.Equal(invites(o, "bob"), []string{"i1"}) {
		t.Fatalf("want bob (level 5): %+v", o.Notices)
	}
	f.must(f.e.Accept(f.now, "bob", "i1"))
	f.submit("i2", "default", map[string]string{"RequiredSkill": "billing:4"})
	f.submit("i3", "default", map[string]string{"RequiredSkill": "sales"})
	if p := f.state("i2").Properties; p[PropQueuePosition] != "1" || p[PropEstimatedWaitTime] != "0" {
		t.Errorf("i2 properties %v", p)
	}
	if p := f.state("i3").Properties; p[PropQueuePosition] != "2" {
		t.Errorf("i3 properties %v", p)
	}
	f.now = f.now.Add(8 * time.Second)
	f.must(f.e.Stop(f.now, Actor{Agent: "bob"}, "i1", "done"))
	f.must(f.e.Accept(f.now, "bob", "i2"))
	o = f.submit("i4", "default", nil)
	if !slices.Equal(invites(o, "alice"), []string{"i4"}) {
		t.Errorf("i4 to alice: %+v", o.Notices)
	}
	if p := f.state("i3").Properties; p[PropQueuePosition] != "1" || p[PropEstimatedWaitTime] != "4" {
		t.Errorf("i3 properties %v, want position 1 and the 8 s handle time of i1 shared by 2 ready seats", p)
	}
}

func TestTransferConferenceLeave(t *testing.T) {
	f := newFixture(t, agentCfg("alice", 2, ""), agentCfg("bob", 2, ""), agentCfg("carol", 2, ""))
	f.login("alice")
	f.submit("i1", "default", nil)
	f.must(f.e.Accept(f.now, "alice", "i1"))
	f.login("bob")
	f.login("carol")
	o := f.must(f.e.Conference(f.now, "alice", "i1", "bob"))
	if !slices.Equal(invites(o, "bob"), []string{"i1"}) {
		t.Fatal("bob not invited")
	}
	if _, err := f.e.Transfer(f.now, "alice", "i1", "", "carol"); !errors.Is(err, ErrInvitationPending) {
		t.Errorf("second invitation: %v", err)
	}
	f.must(f.e.Accept(f.now, "bob", "i1"))
	if in := f.state("i1"); !slices.Equal(in.Agents, []string{"alice", "bob"}) {
		t.Fatalf("conference: %v", in.Agents)
	}
	f.must(f.e.Transfer(f.now, "bob", "i1", "", "carol"))
	f.must(f.e.Accept(f.now, "carol", "i1"))
	if in := f.state("i1"); !slices.Equal(in.Agents, []string{"alice", "carol"}) {
		t.Fatalf("transfer: %v", in.Agents)
	}
	if _, err := f.e.LeaveInteraction(f.now, "bob", "i1"); !errors.Is(err, ErrNotParty) {
		t.Errorf("bob left already: %v", err)
	}
	f.must(f.e.LeaveInteraction(f.now, "alice", "i1"))
	o = f.must(f.e.LeaveInteraction(f.now, "carol", "i1"))
	if in := f.state("i1"); in.State != StateRouting || len(in.Agents) != 0 {
		t.Errorf("after the last agent left: %+v", in)
	}
	if len(invites(o, "alice")) != 1 {
		t.Errorf("requeued interaction not routed again: %+v", o.Notices)
	}
	if a, _ := f.e.Agent("carol"); a.load() != 0 {
		t.Errorf("carol's load %d", a.load())
	}
	f.must(f.e.Accept(f.now, "alice", "i1"))
	f.must(f.e.Transfer(f.now, "alice", "i1", "ext", ""))
	if in := f.state("i1"); in.State != StateQueued || in.Queue != "ext" || len(in.Agents) != 0 {
		t.Errorf("transfer to a queue: %+v", in)
	}
}

func TestWorkbinAsyncWakePrefersLastAgent(t *testing.T) {
	f := newFixture(t, agentCfg("alice", 1, ""), agentCfg("bob", 1, ""))
	f.login("alice")
	f.submit("i1", "default", nil)
	f.must(f.e.Accept(f.now, "alice", "i1"))
	f.login("bob")
	f.must(f.e.PlaceInWorkbin(f.now, "alice", "i1", "async"))
	if wb, _ := f.e.WorkbinContent("alice", "async"); len(wb) != 1 || wb[0].ID != "i1" {
		t.Fatalf("workbin %v", wb)
	}
	f.must(f.e.SetReady(f.now, "alice", false, "lunch"))
	o := f.must(f.e.ChangeProperties(f.now, Actor{Client: "chat-1"}, "i1", map[string]string{PropAsyncStatus: "2"}, nil, nil))
	if len(invites(o, "bob")) != 0 || f.state("i1").State != StateQueued {
		t.Fatalf("woken interaction should wait for alice: %+v", o.Notices)
	}
	o = f.must(f.e.SetReady(f.now, "alice", true, ""))
	if !slices.Equal(invites(o, "alice"), []string{"i1"}) {
		t.Fatalf("alice not invited: %+v", o.Notices)
	}
	o = f.must(f.e.Reject(f.now, "alice", "i1"))
	// One attempt left, but alice is now excluded: the interaction waits.
	if len(invites(o, "bob")) != 0 {
		t.Fatal("bob invited while an attempt remains")
	}
	o = f.must(f.e.Logout(f.now, "alice"))
	if !slices.Equal(invites(o, "bob"), []string{"i1"}) {
		t.Errorf("with alice gone, bob should get it: %+v", o.Notices)
	}
}

func TestViewsPullDeliver(t *testing.T) {
	f := newFixture(t, agentCfg("alice", 1, ""))
	f.submit("x1", "ext", map[string]string{"Vip": "yes", "Priority": "1"})
	f.submit("x2", "ext", map[string]string{"Vip": "yes", "Priority": "9"})
	f.submit("x3", "ext", map[string]string{"Vip": "no"})
	got, _, err := f.e.Pull(f.now, Actor{Client: "urs"}, "vip", "", 5)
	if err != nil || len(got) != 2 || got[0].ID != "x2" || got[1].ID != "x1" {
		t.Fatalf("pull: %v %v", got, err)
	}
	if _, err := f.e.Deliver(f.now, Actor{Client: "urs"}, "x2", "alice"); !errors.Is(err, ErrAgentUnavailable) {
		t.Errorf("deliver to a logged-out agent: %v", err)
	}
	f.login("alice")
	o := f.must(f.e.Deliver(f.now, Actor{Client: "urs"}, "x2", "alice"))
	if !slices.Equal(invites(o, "alice"), []string{"x2"}) {
		t.Errorf("deliver: %+v", o.Notices)
	}
	o = f.e.ReleaseClient(f.now, "urs")
	if f.state("x1").State != StateQueued || f.state("x2").State != StateRouting {
		t.Errorf("release: x1 %s x2 %s", f.state("x1").State, f.state("x2").State)
	}

	f.submit("d1", "default", map[string]string{"GCTI_Chat_AsyncCheckAt": fmt.Sprint(f.now.Unix() + 5)})
	f.now = f.now.Add(10 * time.Second)
	o = f.e.Tick(f.now)
	if _, ok := f.e.Interaction("d1"); ok || !slices.Contains(o.Batch.Deletes, "d1") {
		t.Errorf("check view did not stop d1: %v", names(o))
	}
}

func TestRestoreRequeuesRouting(t *testing.T) {
	f := newFixture(t, agentCfg("alice", 1, ""), agentCfg("bob", 1, ""))
	f.login("alice")
	f.submit("i1", "default", nil)
	f.must(f.e.Accept(f.now, "alice", "i1"))
	f.login("bob")
	f.submit("i2", "default", nil)
	saved := []Interaction{f.state("i1"), f.state("i2")}
	if saved[1].State != StateRouting {
		t.Fatalf("i2 %s", saved[1].State)
	}
	g := newFixture(t, agentCfg("alice", 1, ""), agentCfg("bob", 1, ""))
	g.e.Restore(g.now, saved, f.e.LastEventID())
	if g.state("i2").State != StateQueued || g.e.LastEventID() != f.e.LastEventID() {
		t.Errorf("restored i2 %s", g.state("i2").State)
	}
	g.login("alice")
	if a, _ := g.e.Agent("alice"); a.held != 1 || a.free() {
		t.Errorf("alice holds i1 again: %+v", a)
	}
	g.login("bob")
	if g.state("i2").State != StateRouting {
		t.Errorf("i2 not routed again")
	}
}

// TestRoutingLoad routes 200 interactions to 20 agents of mixed capacity
// and skills that accept, reject or ignore invitations at random, and checks
// that no agent exceeds its capacity, no interaction has two invitations at
// once or is accepted twice, and every one is delivered.
func TestRoutingLoad(t *testing.T) {
	var agents []AgentConfig
	for i := range 20 {
		skills := "english:3"
		if i%2 == 0 {
			skills += fmt.Sprintf(",billing:%d", i%5+1)
		}
		agents = append(agents, agentCfg(fmt.Sprintf("a%02d", i), i%3+1, skills))
	}
	f := newFixture(t, agents...)
	for _, a := range agents {
		f.login(a.ID)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	st := newLoadState(agents)
	for i := range 200 {
		props := map[string]string{}
		if i%3 == 0 {
			props["RequiredSkill"] = fmt.Sprintf("billing:%d", i%4+1)
		}
		st.apply(t, f.submit(fmt.Sprintf("i%03d", i), "default", props))
	}
	for step := 0; len(st.accepted) < 200 && step < 10000; step++ {
		f.now = f.now.Add(time.Second)
		st.apply(t, f.e.Tick(f.now))
		st.act(t, f, rng)
	}
	if len(st.accepted) != 200 {
		t.Fatalf("%d of 200 delivered", len(st.accepted))
	}
	if st.rejects == 0 || st.timeouts == 0 {
		t.Errorf("rejects %d, timeouts %d: the test did not exercise re-routing", st.rejects, st.timeouts)
	}
}

// loadState follows what TestRoutingLoad's agents were told.
type loadState struct {
	capacity map[string]int
	skills   map[string]map[string]int
	invited  map[string]string   // interaction -> agent with an open invitation
	holding  map[string][]string // agent -> interactions held
	accepted map[string]string   // interaction -> agent
	required map[string]string
	ignored  map[string]bool // invitations the agent will let time out
	rounds   map[string]int  // invitations of each interaction so far
	rejects  int
	timeouts int
}

func newLoadState(agents []AgentConfig) *loadState {
	s := &loadState{capacity: map[string]int{}, skills: map[string]map[string]int{}, invited: map[string]string{},
		holding: map[string][]string{}, ignored: map[string]bool{}, rounds: map[string]int{}, accepted: map[string]string{}, required: map[string]string{}}
	for _, a := range agents {
		s.capacity[a.ID], s.skills[a.ID] = a.Capacity, a.Skills
	}
	return s
}

func (s *loadState) apply(t *testing.T, o Output) {
	t.Helper()
	for _, in := range o.Batch.Saves {
		s.required[in.ID] = in.Properties["RequiredSkill"]
	}
	for _, n := range o.Notices {
		switch n.Name {
		case "EventInvite":
			id, agent := n.Body.InteractionID, n.To[0].Agent
			if prev, ok := s.invited[id]; ok {
				t.Fatalf("%s invited to %s while %s has an invitation", agent, id, prev)
			}
			if _, ok := s.accepted[id]; ok {
				t.Fatalf("%s invited to %s, already delivered", agent, id)
			}
			if req := s.required[id]; req != "" {
				sk, _ := ParseSkill(req)
				if s.skills[agent][sk.Name] < sk.Level {
					t.Fatalf("%s (skills %v) invited to %s requiring %s", agent, s.skills[agent], id, req)
				}
			}
			s.invited[id] = agent
			s.rounds[id]++
			s.checkLoad(t, agent)
		case "EventRevoked":
			delete(s.invited, n.Body.InteractionID)
			s.timeouts++
		}
	}
}

func (s *loadState) checkLoad(t *testing.T, agent string) {
	t.Helper()
	load := len(s.holding[agent])
	for _, a := range s.invited {
		if a == agent {
			load++
		}
	}
	if load > s.capacity[agent] {
		t.Fatalf("%s has load %d over capacity %d", agent, load, s.capacity[agent])
	}
}

// act makes every agent answer its invitations (of those it does not ignore,
// one in ten, accept 60% and reject 20% at each step) and finish some held
// interactions.
func (s *loadState) act(t *testing.T, f *fixture, rng *rand.Rand) {
	for _, id := range slices.Sorted(maps.Keys(s.invited)) {
		agent := s.invited[id]
		key := fmt.Sprint(id, "/", s.rounds[id]) // one decision per invitation
		if _, seen := s.ignored[key]; !seen {
			s.ignored[key] = rng.IntN(10) == 0
		}
		if s.ignored[key] {
			continue
		}
		switch r := rng.IntN(10); {
		case r < 6:
			delete(s.invited, id)
			s.holding[agent] = append(s.holding[agent], id)
			s.accepted[id] = agent
			s.apply(t, f.must(f.e.Accept(f.now, agent, id)))
		case r < 8:
			delete(s.invited, id)
			s.rejects++
			s.apply(t, f.must(f.e.Reject(f.now, agent, id)))
		}
	}
	for _, agent := range slices.Sorted(maps.Keys(s.holding)) {
		if held := s.holding[agent]; len(held) > 0 && rng.IntN(3) == 0 {
			s.holding[agent] = held[1:]
			s.apply(t, f.must(f.e.Stop(f.now, Actor{Agent: agent}, held[0], "done")))
		}
	}
}

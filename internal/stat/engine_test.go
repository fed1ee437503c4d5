package stat

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

// testConfig is a small contact center with the stat types a chat
// contact center needs.
func testConfig(t testing.TB) Config {
	t.Helper()
	types := map[string]map[string]string{
		"ChatsInQueue":   {"Category": "CurrentNumber", "MainMask": "CallWait", "Objects": "Queue,Tenant"},
		"LongestWait":    {"Category": "CurrentMaxTime", "MainMask": "CallWait", "Objects": "Queue,Tenant"},
		"Handled":        {"Category": "TotalNumber", "MainMask": "CallInbound", "Objects": "Queue,Tenant,Agent,GroupAgents"},
		"Abandoned":      {"Category": "TotalNumber", "MainMask": "CallAbandoned", "Objects": "Queue,Tenant"},
		"AHT":            {"Category": "TotalAverageTime", "MainMask": "CallInbound", "Objects": "Queue,Tenant"},
		"MaxHandle":      {"Category": "MaxTime", "MainMask": "CallInbound", "Objects": "Queue"},
		"ServiceLevel":   {"Category": "ServiceFactor1", "MainMask": "CallDistributed", "RelMask": "CallDistributed,CallAbandoned", "Objects": "Queue,Tenant"},
		"AnsweredInSL":   {"Category": "TotalNumberInTimeRangePercentage", "MainMask": "CallDistributed", "RelMask": "CallDistributed,CallAbandoned", "Objects": "Queue"},
		"AgentsReady":    {"Category": "CurrentNumber", "Subject": "AgentStatus", "MainMask": "WaitForNextCall", "Objects": "GroupAgents,Tenant"},
		"AgentsBusy":     {"Category": "CurrentNumber", "Subject": "AgentStatus", "MainMask": "CallInbound,CallOnHold,CallRinging", "Objects": "GroupAgents,Tenant"},
		"AgentsNotReady": {"Category": "CurrentNumber", "Subject": "AgentStatus", "MainMask": "NotReadyForNextCall", "Objects": "GroupAgents,Tenant"},
		"AgentChats":     {"Category": "CurrentNumber", "MainMask": "CallInbound", "Objects": "Agent"},
		"AgentState":     {"Category": "CurrentState", "MainMask": "*", "Objects": "Agent"},
		"Transfers":      {"Category": "TotalNumber", "MainMask": "CallTransferMade", "Objects": "Agent,Queue"},
		"Offered":        {"Category": "TotalNumber", "MainMask": "CallRinging", "Objects": "Agent"},
	}
	cfg := Config{Agents: []string{"alice", "bob"}, Queues: []string{"chat", "vip"},
		Groups: map[string][]string{"Sales": {"alice", "bob"}}, StatTypes: map[string]StatType{},
		Profiles: map[string]TimeProfile{}, Ranges: map[string]TimeRange{}}
	for name, opts := range types {
		st, err := ParseStatType(name, opts)
		if err != nil {
			t.Fatal(err)
		}
		cfg.StatTypes[name] = st
	}
	for k, v := range map[string]string{"Default,Growing": "00:00", "Last2,Selection": "2", "Minute,Sliding": "60:10"} {
		p, err := ParseTimeProfile(k, v)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Profiles[p.Name] = p
	}
	r, _ := ParseTimeRange("SL30", "0-30")
	cfg.Ranges["SL30"] = r
	return cfg
}

// day is the scripted stream: two agents, three chats (one handled and
// transferred, one abandoned, one rejected once then handled).
func day() []Report {
	var id int64
	ev := func(s int, name, ixn, agent, queue, kind, from string) Report {
		id++
		return Report{ID: id, Name: name, Time: at(s), Interaction: ixn, Agent: agent, Queue: queue, Kind: kind, From: from}
	}
	return []Report{
		ev(0, "EventAgentLogin", "", "alice", "", "", ""),
		ev(0, "EventAgentLogin", "", "bob", "", "", ""),
		ev(0, "EventAgentNotAvailable", "", "bob", "", "", ""),
		ev(10, "EventInteractionSubmitted", "c1", "", "chat", "", ""),
		ev(10, "EventPlacedInQueue", "c1", "", "chat", "", ""),
		ev(10, "EventAgentInvited", "c1", "alice", "chat", "route", ""),
		ev(15, "EventPartyAdded", "c1", "alice", "", "route", ""),
		ev(15, "EventAccepted", "c1", "alice", "chat", "route", ""),
		ev(20, "EventPlacedInQueue", "c2", "", "chat", "", ""),
		ev(60, "EventProcessingStopped", "c2", "", "chat", "", ""),
		ev(70, "EventPlacedInQueue", "c3", "", "chat", "", ""),
		ev(70, "EventAgentInvited", "c3", "alice", "chat", "route", ""),
		ev(75, "EventRejected", "c3", "alice", "chat", "route", ""),
		ev(80, "EventAgentAvailable", "", "bob", "", "", ""),
		ev(80, "EventAgentInvited", "c3", "bob", "chat", "route", ""),
		ev(120, "EventPartyAdded", "c3", "bob", "", "route", ""),
		ev(120, "EventAccepted", "c3", "bob", "chat", "route", ""),
		ev(130, "EventAgentInvited", "c1", "bob", "chat", "transfer", "alice"),
		ev(135, "EventPartyRemoved", "c1", "alice", "", "", ""),
		ev(135, "EventPartyAdded", "c1", "bob", "", "transfer", ""),
		ev(135, "EventAccepted", "c1", "bob", "chat", "transfer", ""),
		ev(200, "EventPartyRemoved", "c1", "bob", "", "", ""),
		ev(200, "EventProcessingStopped", "c1", "", "chat", "", ""),
		ev(300, "EventPartyRemoved", "c3", "bob", "", "", ""),
		ev(300, "EventProcessingStopped", "c3", "", "chat", "", ""),
	}
}

// TestScriptedDay checks every figure of the scripted day, hand-computed,
// at several moments.
func TestScriptedDay(t *testing.T) {
	e := New(testConfig(t))
	open := func(ot ObjectType, id, st, profile, rng string) Definition {
		def, err := e.Open(Definition{ObjectType: ot, ObjectID: id, StatType: st, TimeProfile: profile, TimeRange: rng}, t0)
		if err != nil {
			t.Fatalf("Open %s %s %s: %v", ot, id, st, err)
		}
		return def
	}
	q := func(st string) Definition { return open(Queue, "chat", st, "", "SL30") }
	defs := map[string]Definition{
		"inQueue": q("ChatsInQueue"), "longest": q("LongestWait"), "handled": q("Handled"), "abandoned": q("Abandoned"),
		"aht": q("AHT"), "maxHandle": q("MaxHandle"), "sl": q("ServiceLevel"), "pct": q("AnsweredInSL"), "qTransfers": q("Transfers"),
		"tenantInQueue": open(Tenant, DefaultTenant, "ChatsInQueue", "", ""),
		"tenantHandled": open(Tenant, DefaultTenant, "Handled", "", ""),
		"ready":         open(GroupAgents, "Sales", "AgentsReady", "", ""),
		"busy":          open(GroupAgents, "Sales", "AgentsBusy", "", ""),
		"notReady":      open(Tenant, DefaultTenant, "AgentsNotReady", "", ""),
		"bobChats":      open(Agent, "bob", "AgentChats", "", ""),
		"aliceState":    open(Agent, "alice", "AgentState", "", ""),
		"bobState":      open(Agent, "bob", "AgentState", "", ""),
		"aliceTransfer": open(Agent, "alice", "Transfers", "", ""),
		"aliceOffered":  open(Agent, "alice", "Offered", "", ""),
		"aliceHandled":  open(Agent, "alice", "Handled", "", ""),
		"groupHandled":  open(GroupAgents, "Sales", "Handled", "", ""),
		"last2":         open(Queue, "chat", "AHT", "Last2", ""),
	}
	checks := []struct {
		until int // apply the reports up to this second
		name  string
		want  float64
		state string
	}{
		{5, "ready", 1, ""}, {5, "notReady", 1, ""}, {5, "busy", 0, ""}, {5, "bobState", 0, "NotReadyForNextCall"},
		{12, "inQueue", 1, ""}, {12, "tenantInQueue", 1, ""}, {12, "aliceState", 0, "CallRinging"}, {12, "busy", 1, ""},
		{50, "inQueue", 1, ""}, {50, "longest", 30, ""}, {50, "aliceState", 0, "CallInbound"},
		{100, "inQueue", 1, ""}, {130, "inQueue", 0, ""}, {100, "abandoned", 1, ""}, {100, "ready", 0, ""}, {100, "busy", 2, ""},
		{100, "notReady", 0, ""}, {100, "aliceOffered", 2, ""},
		{140, "bobChats", 2, ""}, {140, "aliceTransfer", 1, ""}, {140, "aliceHandled", 1, ""}, {140, "handled", 0, ""},
		{140, "aliceState", 0, "WaitForNextCall"}, {140, "ready", 1, ""},
		{250, "handled", 1, ""}, {250, "aht", 185, ""}, {250, "bobChats", 1, ""},
		{400, "handled", 2, ""}, {400, "tenantHandled", 2, ""}, {400, "aht", 182.5, ""}, {400, "maxHandle", 185, ""},
		{400, "sl", 100.0 / 3, ""}, {400, "pct", 100.0 / 3, ""}, {400, "qTransfers", 0, ""}, {400, "groupHandled", 3, ""},
		{400, "last2", 182.5, ""}, {400, "bobState", 0, "WaitForNextCall"},
	}
	reports := day()
	for _, c := range checks {
		for len(reports) > 0 && !reports[0].Time.After(at(c.until)) {
			e.Apply(reports[0])
			reports = reports[1:]
		}
		v, err := e.Value(defs[c.name], at(c.until))
		if err != nil || math.Abs(v.Number-c.want) > 1e-9 || v.State != c.state {
			t.Errorf("at +%ds %s = %+v, %v; want %v %q", c.until, c.name, v, err, c.want, c.state)
		}
	}
	if e.LastEventID() != int64(len(day())) {
		t.Errorf("LastEventID = %d", e.LastEventID())
	}
}

// TestReplaySkipped: a report at or below the last applied one (a replay
// after a reconnection) changes nothing.
func TestReplaySkipped(t *testing.T) {
	e := New(testConfig(t))
	def, _ := e.Open(Definition{ObjectType: Queue, ObjectID: "chat", StatType: "Abandoned"}, t0)
	for range 2 {
		for _, r := range day() {
			e.Apply(r)
		}
	}
	if v, _ := e.Value(def, at(400)); v.Number != 1 {
		t.Fatalf("abandoned after a replay = %v; want 1", v.Number)
	}
}

func TestGrowingResets(t *testing.T) {
	e := New(testConfig(t))
	def, _ := e.Open(Definition{ObjectType: Queue, ObjectID: "chat", StatType: "Abandoned"}, t0)
	e.Apply(Report{ID: 1, Name: "EventPlacedInQueue", Time: at(0), Interaction: "a", Queue: "chat"})
	e.Apply(Report{ID: 2, Name: "EventProcessingStopped", Time: at(5), Interaction: "a"})
	midnight := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	if v, _ := e.Value(def, midnight.Add(-time.Millisecond)); v.Number != 1 {
		t.Errorf("before midnight = %v; want 1", v.Number)
	}
	if v, _ := e.Value(def, midnight); v.Number != 0 {
		t.Errorf("at midnight = %v; want 0", v.Number)
	}
	if next, ok := e.NextReset(def, at(0)); !ok || !next.Equal(midnight) {
		t.Errorf("NextReset = %v, %v; want %v", next, ok, midnight)
	}
}

func TestSlidingWindow(t *testing.T) {
	e := New(testConfig(t))
	def, _ := e.Open(Definition{ObjectType: Queue, ObjectID: "chat", StatType: "Abandoned", TimeProfile: "Minute"}, t0)
	for i, s := range []int{0, 25, 55} {
		id := string(rune('a' + i))
		e.Apply(Report{ID: int64(2*i + 1), Name: "EventPlacedInQueue", Time: at(s), Interaction: id, Queue: "chat"})
		e.Apply(Report{ID: int64(2*i + 2), Name: "EventProcessingStopped", Time: at(s + 1), Interaction: id})
	}
	// Buckets of 10 s, a window of 6 of them: at +65 the window holds
	// [10, 70): the abandons at 26 and 56.
	for _, c := range []struct{ s, want int }{{56, 3}, {65, 2}, {89, 1}, {125, 0}} {
		if v, _ := e.Value(def, at(c.s)); v.Number != float64(c.want) {
			t.Errorf("at +%d = %v; want %d", c.s, v.Number, c.want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	e := New(testConfig(t))
	for _, c := range []struct {
		def  Definition
		want error
	}{
		{Definition{ObjectType: Queue, ObjectID: "nope", StatType: "Handled"}, ErrNoSuchObject},
		{Definition{ObjectType: Agent, ObjectID: "alice", StatType: "ChatsInQueue"}, ErrNoSuchObject},
		{Definition{ObjectType: "Place", ObjectID: "alice", StatType: "Handled"}, ErrNoSuchObject},
		{Definition{ObjectType: Queue, ObjectID: "chat", StatType: "Nope"}, ErrNoSuchStatType},
		{Definition{ObjectType: Queue, ObjectID: "chat", StatType: "Handled", TimeProfile: "Nope"}, ErrNoSuchStatType},
		{Definition{ObjectType: Queue, ObjectID: "chat", StatType: "ServiceLevel"}, ErrNoSuchStatType},
	} {
		if _, err := e.Open(c.def, t0); !errors.Is(err, c.want) {
			t.Errorf("Open(%+v) = %v; want %v", c.def, err, c.want)
		}
	}
	if len(e.Definitions()) != 0 {
		t.Errorf("a failed open left %v open", e.Definitions())
	}
}

// TestSharedAndMerge: equal definitions share one statistic until the last
// holder closes it; a peer's larger aggregate replaces a smaller one and
// a smaller one changes nothing.
func TestSharedAndMerge(t *testing.T) {
	e := New(testConfig(t))
	def, _ := e.Open(Definition{ObjectType: Queue, ObjectID: "chat", StatType: "Abandoned", TimeRange: "ignored"}, t0)
	if def.TimeProfile != DefaultProfile || def.TimeRange != "" {
		t.Fatalf("opened as %+v", def)
	}
	e.Open(def, t0)
	if err := e.Close(def); err != nil || !e.IsOpen(def) {
		t.Fatalf("closed with a holder left: %v", err)
	}
	peer := New(testConfig(t))
	peer.Open(def, t0)
	for _, r := range day() {
		peer.Apply(r)
	}
	h, _ := peer.History(def)
	e.Merge(def, h, int64(len(day())), at(400))
	if v, _ := e.Value(def, at(400)); v.Number != 1 {
		t.Errorf("after merge = %v; want 1", v.Number)
	}
	empty := New(testConfig(t))
	empty.Open(def, t0)
	h, _ = empty.History(def)
	e.Merge(def, h, int64(len(day())), at(400))
	if v, _ := e.Value(def, at(400)); v.Number != 1 {
		t.Errorf("after merging a smaller aggregate = %v; want 1", v.Number)
	}
	if err := e.Close(def); err != nil || e.IsOpen(def) {
		t.Fatalf("last close: %v, open %v", err, e.IsOpen(def))
	}
	if err := e.Close(def); !errors.Is(err, ErrNoSuchStatistic) {
		t.Errorf("second close = %v", err)
	}
}

// TestAdoptCountsOnce: a statistic taken from the HA peer, counted up to
// the peer's position, does not count again the events up to it when this
// Engine applies them later (a restarted server replaying the stream),
// whether it was open here first or not.
func TestAdoptCountsOnce(t *testing.T) {
	def := Definition{ObjectType: Queue, ObjectID: "chat", StatType: "Abandoned", TimeProfile: DefaultProfile}
	peer := New(testConfig(t))
	peer.Open(def, t0)
	for _, r := range day() {
		peer.Apply(r)
	}
	h, _ := peer.History(def)
	for _, openFirst := range []bool{false, true} {
		e := New(testConfig(t))
		if openFirst {
			e.Open(def, t0)
		}
		e.Adopt(def, h, peer.LastEventID(), at(400))
		for _, r := range day() {
			e.Apply(r)
		}
		e.Apply(Report{ID: 100, Name: "EventPlacedInQueue", Time: at(500), Interaction: "z", Queue: "chat"})
		e.Apply(Report{ID: 101, Name: "EventProcessingStopped", Time: at(501), Interaction: "z"})
		if v, _ := e.Value(def, at(600)); v.Number != 2 {
			t.Errorf("open first %v: abandoned = %v; want 2 (1 adopted, 1 after)", openFirst, v.Number)
		}
	}
}

// TestReconcile: after an interaction server restart, agents it no longer
// has are logged out, the others take its ready state, and invitations to
// waiting interactions end; held chats stay.
func TestReconcile(t *testing.T) {
	e := New(testConfig(t))
	ready, _ := e.Open(Definition{ObjectType: Tenant, ObjectID: DefaultTenant, StatType: "AgentsReady"}, t0)
	notReady, _ := e.Open(Definition{ObjectType: Tenant, ObjectID: DefaultTenant, StatType: "AgentsNotReady"}, t0)
	chats, _ := e.Open(Definition{ObjectType: Agent, ObjectID: "alice", StatType: "AgentChats"}, t0)
	state, _ := e.Open(Definition{ObjectType: Agent, ObjectID: "bob", StatType: "AgentState"}, t0)
	for _, r := range day()[:17] { // up to bob's acceptance of c3; alice holds c1
		e.Apply(r)
	}
	e.Apply(Report{ID: 50, Name: "EventPlacedInQueue", Time: at(121), Interaction: "c9", Queue: "chat"})
	e.Apply(Report{ID: 51, Name: "EventAgentInvited", Time: at(121), Interaction: "c9", Agent: "bob", Queue: "chat", Kind: "route"})
	e.Reconcile(Overview{Agents: map[string]bool{"bob": false}, Waiting: []string{"c9"}}, at(130))
	for _, c := range []struct {
		def   Definition
		want  float64
		state string
	}{{ready, 0, ""}, {notReady, 0, ""}, {chats, 1, ""}, {state, 0, "CallInbound"}} {
		if v, _ := e.Value(c.def, at(130)); v.Number != c.want || v.State != c.state {
			t.Errorf("%s = %+v; want %v %q", c.def.StatType, v, c.want, c.state)
		}
	}
	e.Apply(Report{ID: 52, Name: "EventPartyRemoved", Time: at(140), Interaction: "c3", Agent: "bob"})
	if v, _ := e.Value(state, at(140)); v.State != "NotReadyForNextCall" {
		t.Errorf("bob after his chat = %q; want NotReadyForNextCall (the invitation to c9 ended)", v.State)
	}
}

// TestMergeWindow measures the window that remains: a receiver ahead of
// the peer in the stream that takes the peer's larger aggregate loses what
// it counted between the two positions, exactly that and nothing else, and
// never counts an event twice.
func TestMergeWindow(t *testing.T) {
	def := Definition{ObjectType: Queue, ObjectID: "chat", StatType: "Abandoned", TimeProfile: DefaultProfile}
	abandon := func(e *Engine, id int64) {
		e.Apply(Report{ID: 2*id - 1, Name: "EventPlacedInQueue", Time: at(int(id)), Interaction: fmt.Sprint(id), Queue: "chat"})
		e.Apply(Report{ID: 2 * id, Name: "EventProcessingStopped", Time: at(int(id)), Interaction: fmt.Sprint(id)})
	}
	for _, ahead := range []int64{0, 1, 3} {
		peer, e := New(testConfig(t)), New(testConfig(t))
		peer.Open(def, t0)
		for id := int64(1); id <= 5; id++ { // the peer counts 5
			abandon(peer, id)
			if id == 4 {
				e.Open(def, t0) // the receiver opened late: it counts the 5th only
			}
			abandon(e, id)
		}
		for id := int64(6); id <= 5+ahead; id++ { // the receiver runs ahead
			abandon(e, id)
		}
		h, _ := peer.History(def)
		e.Merge(def, h, peer.LastEventID(), at(100))
		for id := int64(6); id <= 8; id++ { // both go on; the receiver skips what it has
			abandon(e, id)
		}
		v, _ := e.Value(def, at(100))
		if want := float64(8 - ahead); v.Number != want {
			t.Errorf("ahead by %d chats: %v; want %v (8 abandoned, the %d counted ahead of the peer lost)", ahead, v.Number, want, ahead)
		}
	}
}

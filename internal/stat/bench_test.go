package stat

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkApply measures one reporting event applied by an Engine with
// the wallboard's statistics open for 200 agents and 20 queues: the stat
// server's hot path (docs/benchmarks.md).
func BenchmarkApply(b *testing.B) {
	cfg := testConfig(b)
	for i := range 200 {
		cfg.Agents = append(cfg.Agents, fmt.Sprintf("a%d", i))
	}
	for i := range 20 {
		cfg.Queues = append(cfg.Queues, fmt.Sprintf("q%d", i))
	}
	e := New(cfg)
	for _, a := range cfg.Agents {
		for _, st := range []string{"AgentChats", "AgentState", "Handled", "Transfers"} {
			if _, err := e.Open(Definition{ObjectType: Agent, ObjectID: a, StatType: st}, t0); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, q := range cfg.Queues {
		for _, st := range []string{"ChatsInQueue", "LongestWait", "Handled", "Abandoned", "AHT", "ServiceLevel"} {
			if _, err := e.Open(Definition{ObjectType: Queue, ObjectID: q, StatType: st, TimeRange: "SL30"}, t0); err != nil {
				b.Fatal(err)
			}
		}
	}
	// One chat's life: 8 events, over the agents and queues in turn.
	var id int64
	b.ResetTimer()
	for i := 0; i < b.N; i += 8 {
		a, q, c := cfg.Agents[i/8%200], cfg.Queues[i/8%20], fmt.Sprintf("c%d", i)
		t := t0.Add(time.Duration(i) * time.Millisecond)
		for _, r := range []Report{
			{Name: "EventPlacedInQueue", Interaction: c, Queue: q},
			{Name: "EventAgentInvited", Interaction: c, Agent: a, Queue: q, Kind: "route"},
			{Name: "EventPartyAdded", Interaction: c, Agent: a},
			{Name: "EventAccepted", Interaction: c, Agent: a, Queue: q, Kind: "route"},
			{Name: "EventAgentNotAvailable", Agent: a},
			{Name: "EventAgentAvailable", Agent: a},
			{Name: "EventPartyRemoved", Interaction: c, Agent: a},
			{Name: "EventProcessingStopped", Interaction: c, Queue: q},
		} {
			id++
			r.ID, r.Time = id, t
			e.Apply(r)
		}
	}
}

package ixn

import (
	"reflect"
	"testing"
	"time"
)

func TestOverview(t *testing.T) {
	idle := func(f *fixture) {}
	tests := []struct {
		name   string
		setup  func(f *fixture)
		queues []QueueOverview
		agents []AgentOverview
	}{
		{
			name:  "empty",
			setup: idle,
			queues: []QueueOverview{
				{Name: "default", Routing: RoutingBuiltin, Interactions: []string{}},
				{Name: "ext", Routing: RoutingExternal, Interactions: []string{}},
			},
			agents: []AgentOverview{},
		},
		{
			name: "waiting in position order",
			setup: func(f *fixture) {
				f.submit("x2", "ext", nil)
				f.now = f.now.Add(5 * time.Second)
				f.submit("x1", "ext", nil)
				f.submit("d1", "default", nil) // no agent: waits
				f.now = f.now.Add(2500 * time.Millisecond)
			},
			queues: []QueueOverview{
				{Name: "default", Routing: RoutingBuiltin, Waiting: 1, OldestWait: 2, Interactions: []string{"d1"}},
				{Name: "ext", Routing: RoutingExternal, Waiting: 2, OldestWait: 7, Interactions: []string{"x2", "x1"}},
			},
			agents: []AgentOverview{},
		},
		{
			name: "agents with load, reason and workbin",
			setup: func(f *fixture) {
				f.login("b")
				f.login("a")
				f.must(f.e.SetReady(f.now, "b", false, "lunch"))
				f.submit("d1", "default", nil) // invites a
				f.must(f.e.Accept(f.now, "a", "d1"))
				f.submit("d2", "default", nil) // invites a again
				f.must(f.e.Accept(f.now, "a", "d2"))
				f.must(f.e.PlaceInWorkbin(f.now, "a", "d2", "hold"))
				f.now = f.now.Add(10 * time.Second)
			},
			queues: []QueueOverview{
				{Name: "default", Routing: RoutingBuiltin, Interactions: []string{}},
				{Name: "ext", Routing: RoutingExternal, Interactions: []string{}},
			},
			agents: []AgentOverview{
				{ID: "a", Place: "place-a", Ready: true, Load: 1, Capacity: 2, IdleFor: 10, Workbin: 1},
				{ID: "b", Place: "place-b", Reason: "lunch", Capacity: 1, IdleFor: 10},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, agentCfg("a", 2, ""), agentCfg("b", 1, ""), agentCfg("c", 1, ""))
			tt.setup(f)
			got := f.e.Overview(f.now)
			want := Overview{Queues: tt.queues, Agents: tt.agents}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Overview:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

package ixnserver_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/wire"
)

// TestOverview asks a real server for its queues and agents, as a
// supervisor's reporting client and as an agent desktop.
func TestOverview(t *testing.T) { eachBackend(t, testOverview) }

func testOverview(t *testing.T, b backend) {
	h := b.start(t, defaultOptions(t))
	chat := h.register("chat-1", "media-server")
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "x1", "mediaType": "chat", "queue": "ext"})
	h.clock.Advance(4 * time.Second)
	bob := h.agent("bob")
	bob.ok(wire.RequestAgentNotAvailable, map[string]string{"reason": "break"})
	h.dial("stranger").fails(wire.RequestGetOverview, nil, wire.CodeNotRegistered)
	bob.fails(wire.RequestGetOverview, map[string]any{"queue": "ext"}, wire.CodeBadRequest)

	want := ixn.Overview{
		Queues: []ixn.QueueOverview{
			{Name: "default", Routing: ixn.RoutingBuiltin, Interactions: []string{}},
			{Name: "ext", Routing: ixn.RoutingExternal, Waiting: 1, OldestWait: 4, Interactions: []string{"x1"}},
		},
		Agents: []ixn.AgentOverview{{ID: "bob", Place: "bob", Reason: "break", Capacity: 1}},
	}
	for _, c := range []*client{h.register("supervisor", "reporting"), bob} {
		m, err := c.do(wire.RequestGetOverview, nil)
		if err != nil || m.Name != wire.EventOverview {
			t.Fatalf("%s: %v %v", c.name, m.Name, err)
		}
		var got ixn.Overview
		if err := json.Unmarshal(m.Body, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, want)
		}
	}
}

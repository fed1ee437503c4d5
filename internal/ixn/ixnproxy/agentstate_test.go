package ixnproxy_test

import (
	"testing"

	"github.com/parley-chat/parley/internal/wire"
)

// loads returns agent's load on each node, asked directly.
func loads(t *testing.T, agent string, nodes ...*testNode) []float64 {
	t.Helper()
	var out []float64
	for _, n := range nodes {
		ov := register(t, n.addr, "probe", "reporting").ok(wire.RequestGetOverview, nil)
		agents, _ := ov["agents"].([]any)
		for _, x := range agents {
			if a, _ := x.(map[string]any); a["agentId"] == agent {
				load, _ := a["load"].(float64)
				out = append(out, load)
			}
		}
	}
	return out
}

// An agent's per-media Not Ready goes through the proxy to every node: no
// node invites it to a chat until it is ready for chat again. A workflow's
// lock goes to the interaction's node, and another client's change of the
// locked interaction is refused there (2122).
func TestProxyAgentMediaStateAndLocks(t *testing.T) {
	a, b := startNode(t, "node-a", nodeOptions(t, "")), startNode(t, "node-b", nodeOptions(t, ""))
	p := startProxy(t, a.node(), b.node())
	desk := register(t, p.addr, "desk/alice", "agent")
	desk.fails(wire.RequestNotReadyForMedia, map[string]any{"mediaType": "chat", "reason": "lunch"}, wire.CodeNotLoggedIn)
	desk.ok(wire.RequestAgentLogin, map[string]any{"agentId": "alice", "password": "alice"})
	desk.ok(wire.RequestNotReadyForMedia, map[string]any{"mediaType": "chat", "reason": "lunch"})
	ms := register(t, p.addr, "chat-1", "media-server")
	for range 2 {
		ms.ok(wire.RequestSubmit, map[string]any{"queue": "default"}) // one on each node
	}
	if l := loads(t, "alice", a, b); len(l) != 2 || l[0]+l[1] != 0 {
		t.Fatalf("loads of alice, Not Ready for chat: %v", l)
	}
	desk.ok(wire.RequestCancelNotReadyForMedia, map[string]any{"mediaType": "chat"})
	first := desk.invited(nil)
	desk.invited(map[string]bool{first: true})

	made := ms.ok(wire.RequestSubmit, map[string]any{"queue": "ext"})
	id, _ := made["interactionId"].(string)
	flow, other := register(t, p.addr, "flow-1", "routing"), register(t, p.addr, "flow-2", "routing")
	flow.ok(wire.RequestLockInteraction, map[string]any{"interactionId": id})
	other.fails(wire.RequestStopProcessing, map[string]any{"interactionId": id}, wire.CodeLocked)
	flow.ok(wire.RequestUnlockInteraction, map[string]any{"interactionId": id})
	other.ok(wire.RequestStopProcessing, map[string]any{"interactionId": id})
}

package ixnserver_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/wire"
)

// loginAgain dials, registers and logs agent id in (password: the id) and
// returns the ids of the interactions the login reply gives back, with
// their grants.
func (h *harness) loginAgain(id string) (ids []string, grants []any) {
	h.t.Helper()
	c := h.register("desktop-"+id, "agent")
	r := c.ok(wire.RequestAgentLogin, map[string]any{"agentId": id, "password": id})
	list, _ := r["interactions"].([]any)
	for _, x := range list {
		in, _ := x.(map[string]any)
		ids, grants = append(ids, in["interactionId"].(string)), append(grants, in["grant"])
	}
	return ids, grants
}

// load returns the overview's load of a logged-in agent.
func load(t *testing.T, c *client, agent string) int {
	t.Helper()
	var ov ixn.Overview
	m, err := c.do(wire.RequestGetOverview, nil)
	if err != nil || json.Unmarshal(m.Body, &ov) != nil {
		t.Fatalf("overview: %v", err)
	}
	for _, a := range ov.Agents {
		if a.ID == agent {
			return a.Load
		}
	}
	t.Fatalf("%s not logged in: %+v", agent, ov.Agents)
	return 0
}

// TestAgentsGetTheirChatsBackAfterARestart kills the server while agents
// hold chats and starts it again on the same store, as a backup taking over
// does: each agent that logs in again gets its own chats back in the login
// reply, without an invitation, its load counts them and nothing more, and
// a chat whose agent never comes back goes to another agent once
// agent-reconnect-timeout has passed.
func TestAgentsGetTheirChatsBackAfterARestart(t *testing.T) {
	eachBackend(t, testAgentsGetTheirChatsBackAfterARestart)
}

func testAgentsGetTheirChatsBackAfterARestart(t *testing.T, b backend) {
	dsn, clock := b.fresh(t), newClock()
	h := startAt(t, defaultOptions(t), b, dsn, clock)
	chat := h.register("chat-1", "media-server")
	alice, carol := h.agent("alice"), h.agent("carol") // capacity 2 and 1
	for _, id := range []string{"c1", "c2"} {
		chat.ok(wire.RequestSubmit, map[string]any{"interactionId": id, "queue": "default"})
		alice.wait(wire.EventInvite, forID(id))
		alice.ok(wire.RequestAccept, map[string]string{"interactionId": id})
	}
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c3", "queue": "default"})
	carol.wait(wire.EventInvite, forID("c3"))
	carol.ok(wire.RequestAccept, map[string]string{"interactionId": "c3"})
	h.stop()

	h = startAt(t, defaultOptions(t), b, dsn, clock)
	chat = h.register("chat-1", "media-server")
	clock.Advance(time.Minute)
	ids, _ := h.loginAgain("alice")
	if !slices.Equal(ids, []string{"c1", "c2"}) {
		t.Fatalf("alice's login after the restart gives back %v, want [c1 c2]", ids)
	}
	if n := load(t, chat, "alice"); n != 2 {
		t.Errorf("alice's load = %d, want 2 (her two chats)", n)
	}
	bob := h.agent("bob")
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c4", "queue": "default"})
	bob.wait(wire.EventInvite, forID("c4")) // alice is at capacity
	chat.ok(wire.RequestStopProcessing, map[string]string{"interactionId": "c4"})

	clock.Advance(time.Minute) // carol's agent-reconnect-timeout (120 s) has passed
	eventually(t, "carol's chat routed again", func() bool {
		in := chat.ok(wire.RequestGetInteractionProperties, map[string]string{"interactionId": "c3"})["interaction"].(map[string]any)
		agents, _ := in["agents"].([]any)
		return len(agents) == 0 && in["state"] != "handling"
	})
	bob.wait(wire.EventInvite, forID("c3"))
	for _, c := range h.clients() {
		for _, ev := range c.events(wire.EventInvite) {
			if ev.InteractionID == "c1" || ev.InteractionID == "c2" {
				t.Errorf("%s invited to %s, which alice held", c.name, ev.InteractionID)
			}
		}
	}
	if ids, _ := h.loginAgain("carol"); len(ids) != 0 {
		t.Errorf("carol, back after her timeout, still gets %v", ids)
	}
}

// TestLoginAfterADroppedConnectionGrantsHeldChats: a desktop bridge whose
// connection dropped (its web API died) logs the agent in again on a new
// connection and gets a grant to join each chat the agent holds.
func TestLoginAfterADroppedConnectionGrantsHeldChats(t *testing.T) {
	key := newKey(t)
	h := startTrust(t, key)
	chat := h.dialAs("chat-1", key)
	chat.ok(wire.RequestRegisterClient, reg("chat-1", "media-server"))
	alice := bridgeAgent(h, key)
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c1", "queue": "default"})
	alice.wait(wire.EventInvite, forID("c1"))
	alice.ok(wire.RequestAccept, map[string]string{"interactionId": "c1"})
	alice.conn.Close()
	eventually(t, "alice logged out", func() bool {
		m, err := chat.do(wire.RequestGetOverview, nil)
		var ov ixn.Overview
		return err == nil && json.Unmarshal(m.Body, &ov) == nil && len(ov.Agents) == 0
	})

	again := h.dialAs("gms-1", key)
	again.ok(wire.RequestRegisterClient, reg("gms-1/alice", "agent"))
	r := again.ok(wire.RequestAgentLogin, map[string]any{"agentId": "alice", "password": "alice"})
	list, _ := r["interactions"].([]any)
	if len(list) != 1 {
		t.Fatalf("login reply %v, want c1 given back", r)
	}
	in := list[0].(map[string]any)
	if in["interactionId"] != "c1" || in["state"] != "handling" {
		t.Errorf("given back %v", in)
	}
	checkGrant(t, h, key, in["grant"], "c1")
}

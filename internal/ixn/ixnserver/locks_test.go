package ixnserver_test

import (
	"testing"

	"github.com/parley-chat/parley/internal/wire"
)

// pulledIDs pulls up to 5 interactions of queue for c and returns their ids.
func pulledIDs(t *testing.T, c *client, queue string) []string {
	t.Helper()
	var ids []string
	list, _ := c.ok(wire.RequestPull, map[string]any{"queue": queue, "count": 5})["interactions"].([]any)
	for _, x := range list {
		in, _ := x.(map[string]any)
		ids = append(ids, in["interactionId"].(string))
	}
	return ids
}

// lockSetup starts a server with a reporting client, a media server and
// two routing clients, flow-1 and flow-2.
func lockSetup(t *testing.T) (h *harness, stat, chat, flow, other *client) {
	t.Helper()
	h = start(t, defaultOptions(t))
	return h, reporting(h), h.register("chat-1", "media-server"), h.register("flow-1", "routing"), h.register("flow-2", "routing")
}

// TestLockKeepsInteractionAway: a workflow's lock keeps an interaction
// from routing and from other clients' pulls and changes (2122) until it
// unlocks it; each lock and unlock is reported.
func TestLockKeepsInteractionAway(t *testing.T) {
	h, stat, chat, flow, other := lockSetup(t)
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c1", "queue": "default"})
	flow.ok(wire.RequestLockInteraction, map[string]string{"interactionId": "c1"})
	stat.wait(wire.EventLocked, func(e event) bool { return e.InteractionID == "c1" && e.LockedBy == "flow-1" })
	flow.ok(wire.RequestLockInteraction, map[string]string{"interactionId": "c1"}) // again: no-op

	bob := h.agent("bob")
	if n := load(t, bob, "bob"); n != 0 {
		t.Fatalf("bob was offered the locked interaction (load %d)", n)
	}
	for _, c := range []*client{other, chat} {
		c.fails(wire.RequestChangeProperties, map[string]any{"interactionId": "c1", "changedProperties": map[string]string{"x": "1"}}, wire.CodeLocked)
		c.fails(wire.RequestStopProcessing, map[string]string{"interactionId": "c1"}, wire.CodeLocked)
		c.fails(wire.RequestUnlockInteraction, map[string]string{"interactionId": "c1"}, wire.CodeLocked)
	}
	other.fails(wire.RequestDeliver, map[string]string{"interactionId": "c1", "agentId": "bob"}, wire.CodeLocked)
	stat.fails(wire.RequestLockInteraction, map[string]string{"interactionId": "c1"}, wire.CodeNotAllowed)
	flow.fails(wire.RequestLockInteraction, map[string]string{"interactionId": "nope"}, wire.CodeNoSuchInteraction)
	flow.fails(wire.RequestUnlockInteraction, map[string]string{"interactionId": "nope"}, wire.CodeNoSuchInteraction)

	flow.ok(wire.RequestChangeProperties, map[string]any{"interactionId": "c1", "changedProperties": map[string]string{"x": "1"}})
	flow.ok(wire.RequestUnlockInteraction, map[string]string{"interactionId": "c1"})
	stat.wait(wire.EventUnlocked, func(e event) bool { return e.InteractionID == "c1" && e.LockedBy == "flow-1" })
	bob.wait(wire.EventInvite, forID("c1"))
	flow.fails(wire.RequestUnlockInteraction, map[string]string{"interactionId": "c1"}, wire.CodeInvalidState)
}

// TestLocksEndWithTheirClient: a pull skips a locked interaction; the
// lock ends when its client disconnects, and the interaction can be pulled.
func TestLocksEndWithTheirClient(t *testing.T) {
	_, stat, chat, flow, other := lockSetup(t)
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "x1", "queue": "ext"})
	flow.ok(wire.RequestLockInteraction, map[string]string{"interactionId": "x1"})
	if ids := pulledIDs(t, other, "ext"); len(ids) != 0 {
		t.Fatalf("pulled a locked interaction: %v", ids)
	}
	flow.conn.Close()
	stat.wait(wire.EventUnlocked, func(e event) bool { return e.InteractionID == "x1" && e.LockedBy == "flow-1" })
	if ids := pulledIDs(t, other, "ext"); len(ids) != 1 || ids[0] != "x1" {
		t.Fatalf("pulled %v after the lock's client left, want [x1]", ids)
	}
}

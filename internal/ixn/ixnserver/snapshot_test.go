package ixnserver_test

import (
	"testing"

	"github.com/parley-chat/parley/internal/wire"
)

// snapshotIDs reads the ids of an EventSnapshotInteractions reply.
func snapshotIDs(r map[string]any) []string {
	var ids []string
	list, _ := r["interactions"].([]any)
	for _, x := range list {
		in, _ := x.(map[string]any)
		ids = append(ids, in["interactionId"].(string))
	}
	return ids
}

// TestSnapshotAndLock is a workflow's snapshot-and-lock: it takes a
// snapshot of the interactions matching a condition, reads it in pages,
// locks one, which routing then keeps away from a ready agent until the
// workflow unlocks it; a snapshot is its client's only, and ends when
// released.
func TestSnapshotAndLock(t *testing.T) {
	h := start(t, defaultOptions(t))
	chat := h.register("chat-1", "media-server")
	for _, id := range []string{"c1", "c2", "c3"} {
		chat.ok(wire.RequestSubmit, map[string]any{"interactionId": id, "queue": "default", "properties": map[string]string{"Vip": "yes"}})
	}
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c4", "queue": "default"})
	flow, other := h.register("flow-1", "routing"), h.register("flow-2", "routing")
	taken := flow.ok(wire.RequestTakeSnapshot, map[string]any{"queue": "default", "condition": "Vip = 'yes'"})
	snap, _ := taken["snapshotId"].(string)
	if taken["count"] != float64(3) || snap == "" {
		t.Fatalf("snapshot taken: %v", taken)
	}
	first := flow.ok(wire.RequestGetSnapshotInteractions, map[string]any{"snapshotId": snap, "from": 0, "count": 2})
	rest := flow.ok(wire.RequestGetSnapshotInteractions, map[string]any{"snapshotId": snap, "from": 2})
	if got := append(snapshotIDs(first), snapshotIDs(rest)...); len(got) != 3 || got[0] != "c1" || got[2] != "c3" {
		t.Fatalf("snapshot pages: %v", got)
	}
	other.fails(wire.RequestGetSnapshotInteractions, map[string]any{"snapshotId": snap}, wire.CodeNoSuchSnapshot)
	flow.fails(wire.RequestTakeSnapshot, map[string]any{"condition": "Vip = "}, wire.CodeBadRequest)
	flow.fails(wire.RequestTakeSnapshot, map[string]any{"queue": "nope"}, wire.CodeNoSuchQueue)
	flow.fails(wire.RequestGetSnapshotInteractions, map[string]any{"snapshotId": snap, "from": -1}, wire.CodeBadRequest)

	flow.ok(wire.RequestLockInteraction, map[string]string{"interactionId": "c1"})
	bob := h.agent("bob") // capacity 1: c2 goes to it, c1 is locked
	bob.wait(wire.EventInvite, forID("c2"))
	alice := h.agent("alice") // capacity 2: c3 and c4, never c1
	alice.wait(wire.EventInvite, forID("c3"))
	alice.wait(wire.EventInvite, forID("c4"))
	carol := h.agent("carol")
	if n := load(t, flow, "carol"); n != 0 {
		t.Fatalf("carol was offered the locked c1 (load %d)", n)
	}
	flow.ok(wire.RequestUnlockInteraction, map[string]string{"interactionId": "c1"})
	carol.wait(wire.EventInvite, forID("c1"))

	flow.ok(wire.RequestReleaseSnapshot, map[string]any{"snapshotId": snap})
	flow.fails(wire.RequestGetSnapshotInteractions, map[string]any{"snapshotId": snap}, wire.CodeNoSuchSnapshot)
	flow.fails(wire.RequestReleaseSnapshot, map[string]any{"snapshotId": snap}, wire.CodeNoSuchSnapshot)
}

package ixnserver_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/wire"
)

// TestIntrude: a supervisor intrudes into the chat an agent handles: the
// holder and the reporting clients hear of the new party (kind intrude),
// and the supervisor leaves it again; an agent that is no supervisor, an
// interaction nobody handles, one intruded already: EventError.
func TestIntrude(t *testing.T) {
	sup := strings.Replace(agentSection("sue", 2, ""), "}", ", supervisor: true}", 1)
	h := start(t, parseOptions(t, testOptions+agentSection("bob", 1, "")+agentSection("alice", 1, "")+sup))
	stat := reporting(h)
	chat := h.register("chat-1", "media-server")
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c1", "queue": "default"})
	bob := h.agent("bob")
	bob.wait(wire.EventInvite, forID("c1"))
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c2", "queue": "ext"})
	sue := h.agent("sue")
	sue.fails(wire.RequestIntrude, map[string]string{"interactionId": "c1"}, wire.CodeInvalidState) // invited, not handled yet
	bob.ok(wire.RequestAccept, map[string]string{"interactionId": "c1"})

	r := sue.ok(wire.RequestIntrude, map[string]string{"interactionId": "c1", "visibility": "INT"})
	if r["interactionId"] != "c1" {
		t.Errorf("intrude reply %v", r)
	}
	intruded := func(e event) bool { return e.InteractionID == "c1" && e.AgentID == "sue" && e.Kind == "intrude" }
	bob.wait(wire.EventPartyAdded, intruded)
	stat.wait(wire.EventPartyAdded, intruded)

	sue.fails(wire.RequestIntrude, map[string]string{"interactionId": "c1"}, wire.CodeInvalidState)
	sue.fails(wire.RequestIntrude, map[string]string{"interactionId": "c2"}, wire.CodeInvalidState)
	sue.fails(wire.RequestIntrude, map[string]string{"interactionId": "nope"}, wire.CodeNoSuchInteraction)
	sue.fails(wire.RequestIntrude, map[string]string{"interactionId": "c1", "visibility": "CLIENT"}, wire.CodeBadRequest)
	h.agent("alice").fails(wire.RequestIntrude, map[string]string{"interactionId": "c1"}, wire.CodeNotAllowed)
	chat.fails(wire.RequestIntrude, map[string]string{"interactionId": "c1"}, wire.CodeNotAllowed)

	sue.ok(wire.RequestLeaveInteraction, map[string]string{"interactionId": "c1"})
	bob.wait(wire.EventPartyRemoved, func(e event) bool { return e.InteractionID == "c1" && e.AgentID == "sue" })
	bob.ok(wire.RequestStopProcessing, map[string]string{"interactionId": "c1"}) // bob still holds it
}

package ixnserver_test

import (
	"testing"

	"github.com/parley-chat/parley/internal/wire"
)

// TestReportedStateChanges holds the reporting events no other wire test
// asserts: an agent ready again (158), an interaction placed in a workbin
// (163) and taken from it (182), taken from its queue by a pull (177); and
// RequestUnsubscribe (184), after which the client hears nothing more of
// the interaction.
func TestReportedStateChanges(t *testing.T) {
	h := start(t, defaultOptions(t))
	stat := reporting(h)
	chat := h.register("chat-1", "media-server")
	bob := h.agent("bob")
	bob.ok(wire.RequestAgentNotAvailable, map[string]string{"reason": "break"})
	bob.ok(wire.RequestAgentAvailable, nil)
	stat.wait(wire.EventAgentAvailable, func(e event) bool { return e.AgentID == "bob" })

	submitAndHold(chat, bob, "c1")
	stat.wait(wire.EventPlacedInWorkbin, func(e event) bool { return e.InteractionID == "c1" && e.AgentID == "bob" })
	bob.ok(wire.RequestPull, map[string]string{"interactionId": "c1"})
	stat.wait(wire.EventTakenFromWorkbin, forID("c1"))

	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "x1", "queue": "ext"})
	watcher := h.register("watcher", "reporting")
	watcher.ok(wire.RequestSubscribe, map[string]string{"interactionId": "x1"})
	watcher.ok(wire.RequestUnsubscribe, map[string]string{"interactionId": "x1"})
	flow := h.register("flow-1", "routing")
	flow.ok(wire.RequestPull, map[string]any{"queue": "ext"})
	stat.wait(wire.EventTakenFromQueue, func(e event) bool { return e.InteractionID == "x1" && e.Reason == "pull" })
	flow.ok(wire.RequestChangeProperties, map[string]any{"interactionId": "x1", "changedProperties": map[string]string{"a": "b"}})
	stat.wait(wire.EventPropertiesChanged, forID("x1"))
	chat.wait(wire.EventPropertiesChanged, forID("x1")) // its submitter follows it; the watcher no longer does
	if got := watcher.names(); len(got) != 0 {
		t.Errorf("the unsubscribed client heard %v", got)
	}
}

package ixnserver_test

import (
	"testing"

	"github.com/parley-chat/parley/internal/wire"
)

// submitAndHold submits interaction id, which agent accepts and places in
// its workbin hold.
func submitAndHold(chat, agent *client, id string) {
	chat.t.Helper()
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": id, "queue": "default"})
	agent.wait(wire.EventInvite, forID(id))
	agent.ok(wire.RequestAccept, map[string]string{"interactionId": id})
	agent.ok(wire.RequestPlaceInWorkbin, map[string]string{"interactionId": id, "workbin": "hold"})
}

// TestWorkbinNotifications: a supervisor's client follows bob's hold
// workbin and hears each interaction placed in it and taken out, until it
// cancels; an agent follows only its own workbins.
func TestWorkbinNotifications(t *testing.T) {
	h := start(t, defaultOptions(t))
	chat := h.register("chat-1", "media-server")
	bob := h.agent("bob")
	watch := h.register("supervisor", "reporting")
	watch.ok(wire.RequestWorkbinNotifications, map[string]string{"agentId": "bob", "workbin": "hold"})
	watch.fails(wire.RequestWorkbinNotifications, map[string]string{"agentId": "nobody"}, wire.CodeNoSuchAgent)
	watch.fails(wire.RequestWorkbinNotifications, map[string]string{"workbin": "hold"}, wire.CodeBadRequest)

	submitAndHold(chat, bob, "c1")
	watch.wait(wire.EventWorkbinContentChanged, func(e event) bool { return e.InteractionID == "c1" && e.Operation == "placed_in" })
	bob.ok(wire.RequestPull, map[string]string{"interactionId": "c1"})
	watch.wait(wire.EventWorkbinContentChanged, func(e event) bool { return e.InteractionID == "c1" && e.Operation == "taken_out" })

	watch.ok(wire.RequestCancelWorkbinNotifications, map[string]string{"agentId": "bob", "workbin": "hold"})
	bob.ok(wire.RequestPlaceInWorkbin, map[string]string{"interactionId": "c1", "workbin": "hold"})
	eventually(t, "bob's third workbin change", func() bool { return len(bob.events(wire.EventWorkbinContentChanged)) == 3 })
	if n := len(watch.events(wire.EventWorkbinContentChanged)); n != 2 {
		t.Errorf("the cancelled client heard %d workbin changes, want 2", n)
	}
	h.agent("alice").fails(wire.RequestWorkbinNotifications, map[string]string{"agentId": "bob"}, wire.CodeNotAllowed)
}

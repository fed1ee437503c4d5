package ixnserver_test

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// reporting registers a reporting client subscribed to the stream.
func reporting(h *harness) *client {
	stat := h.register("stat", "reporting")
	stat.ok(wire.RequestSubscribe, map[string]string{"topic": "reporting"})
	return stat
}

// TestUnregisterClient: RequestUnregisterClient ends a registration as a
// disconnection does (a routing client's pulls and locks, an agent's
// login), keeps the connection, which must register again (2112 before).
func TestUnregisterClient(t *testing.T) {
	h := start(t, defaultOptions(t))
	stat := reporting(h)
	chat := h.register("chat-1", "media-server")
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "x1", "queue": "ext"})
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "x2", "queue": "ext"})
	flow, other := h.register("flow-1", "routing"), h.register("flow-2", "routing")
	flow.ok(wire.RequestPull, map[string]any{"queue": "ext", "count": 1}) // x1
	flow.ok(wire.RequestLockInteraction, map[string]string{"interactionId": "x2"})
	if r := flow.ok(wire.RequestUnregisterClient, nil); r["clientName"] != "flow-1" {
		t.Errorf("unregister reply %v", r)
	}
	stat.wait(wire.EventUnlocked, forID("x2"))
	if ids := pulledIDs(t, other, "ext"); len(ids) != 2 {
		t.Errorf("after flow-1 unregistered, flow-2 pulled %v, want both", ids)
	}
	flow.fails(wire.RequestPull, map[string]any{"queue": "ext"}, wire.CodeNotRegistered)
	flow.fails(wire.RequestUnregisterClient, nil, wire.CodeNotRegistered)
	flow.ok(wire.RequestRegisterClient, map[string]string{"clientName": "flow-1", "clientType": "routing"})

	bob := h.agent("bob")
	bob.ok(wire.RequestUnregisterClient, nil)
	stat.wait(wire.EventAgentLogout, func(e event) bool { return e.AgentID == "bob" })
	if got := stat.events(wire.EventAgentConnectionClosed); len(got) != 0 {
		t.Errorf("an unregistration reported as a closed connection: %+v", got)
	}
}

// TestAgentConnectionClosed: a desktop whose connection drops is reported
// (EventAgentConnectionClosed) before its logout, so reporting tells it
// from an agent going home.
func TestAgentConnectionClosed(t *testing.T) {
	h := start(t, defaultOptions(t))
	stat := reporting(h)
	bob := h.agent("bob")
	bob.conn.Close()
	closed := stat.wait(wire.EventAgentConnectionClosed, func(e event) bool { return e.AgentID == "bob" })
	logout := stat.wait(wire.EventAgentLogout, func(e event) bool { return e.AgentID == "bob" })
	if closed.EventID >= logout.EventID {
		t.Errorf("connection closed (%d) reported after the logout (%d)", closed.EventID, logout.EventID)
	}
}

// TestPublish: RequestPublish reaches the interaction's followers and the
// reporting clients as EventUserEvent, with its publisher.
func TestPublish(t *testing.T) {
	h := start(t, defaultOptions(t))
	stat := reporting(h)
	chat := h.register("chat-1", "media-server")
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "x1", "queue": "ext"})
	flow := h.register("flow-1", "routing")
	flow.ok(wire.RequestPublish, map[string]any{"interactionId": "x1", "userData": map[string]string{"Survey": "sent"}})
	for _, c := range []*client{chat, stat} {
		c.wait(wire.EventUserEvent, func(e event) bool {
			return e.InteractionID == "x1" && e.ClientName == "flow-1" && e.Properties["Survey"] == "sent"
		})
	}
	flow.ok(wire.RequestPublish, map[string]any{"userData": map[string]string{"Shift": "late"}})
	stat.wait(wire.EventUserEvent, func(e event) bool { return e.InteractionID == "" && e.Properties["Shift"] == "late" })
	flow.fails(wire.RequestPublish, map[string]any{"interactionId": "x1"}, wire.CodeBadRequest)
	flow.fails(wire.RequestPublish, map[string]any{"interactionId": "nope", "userData": map[string]string{"a": "b"}}, wire.CodeNoSuchInteraction)
	h.dial("stranger").fails(wire.RequestPublish, map[string]any{"userData": map[string]string{"a": "b"}}, wire.CodeNotRegistered)
}

// TestForcedAgentStateChange: with not-ready-on-invitation-timeout, the
// agent that lets an invitation time out is told the server made it not
// ready (EventForcedAgentStateChange).
func TestForcedAgentStateChange(t *testing.T) {
	opts := defaultOptions(t)
	opts.Settings.NotReadyOnInvitationTimeout = true
	h := start(t, opts)
	chat := h.register("chat-1", "media-server")
	bob := h.agent("bob")
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c1", "queue": "default"})
	bob.wait(wire.EventInvite, forID("c1"))
	h.clock.Advance(30 * time.Second)
	if e := bob.wait(wire.EventForcedAgentStateChange, nil); e.AgentID != "bob" || e.Reason != "invitation timeout" {
		t.Errorf("forced state change %+v", e)
	}
}

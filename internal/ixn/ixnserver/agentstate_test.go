package ixnserver_test

import (
	"encoding/json"
	"testing"

	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/wire"
)

// reasonSections configures the Not Ready reasons of the tests: lunch for
// every tenant, training for tenant other only.
const reasonSections = `
      not-ready-reason:lunch: {label: Lunch}
      not-ready-reason:training: {label: Training, tenant: other}
`

func reasonOptions(t *testing.T) *harness {
	t.Helper()
	return start(t, parseOptions(t, testOptions+reasonSections+agentSection("alice", 2, "")+agentSection("bob", 1, "")))
}

// status reads the agent state of a reply.
func status(t *testing.T, reply map[string]any) ixn.AgentStatus {
	t.Helper()
	raw, _ := json.Marshal(reply["status"])
	var st ixn.AgentStatus
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestNotReadyForChat: an agent Not Ready on chat with a configured reason
// is offered no chat, and is offered the waiting one as soon as it is ready
// for chat again; each change comes with its event, to the agent and to
// reporting clients.
func TestNotReadyForChat(t *testing.T) {
	h := reasonOptions(t)
	stat := h.register("stat", "reporting")
	stat.ok(wire.RequestSubscribe, map[string]string{"topic": "reporting"})
	chat := h.register("chat-1", "media-server")
	bob := h.register("desktop-bob", "agent")
	login := bob.ok(wire.RequestAgentLogin, map[string]any{"agentId": "bob", "password": "bob"})
	if reasons, _ := json.Marshal(login["reasons"]); string(reasons) != `[{"code":"lunch","label":"Lunch"}]` {
		t.Errorf("reasons offered at login = %s", reasons)
	}
	bob.wait(wire.EventCurrentAgentStatus, nil)

	st := status(t, bob.ok(wire.RequestNotReadyForMedia, map[string]string{"mediaType": "chat", "reason": "lunch"}))
	if len(st.Media) != 1 || st.Media[0] != (ixn.MediaStatus{MediaType: "chat", Ready: false, Reason: "lunch"}) {
		t.Errorf("status after Not Ready for chat = %+v", st)
	}
	isBob := func(e event) bool { return e.AgentID == "bob" && e.MediaType == "chat" }
	bob.wait(wire.EventNotReadyForMedia, func(e event) bool { return isBob(e) && e.Reason == "lunch" })
	stat.wait(wire.EventNotReadyForMedia, isBob)

	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c1", "queue": "default"})
	if n := load(t, stat, "bob"); n != 0 {
		t.Fatalf("bob, Not Ready for chat, has load %d", n)
	}
	bob.ok(wire.RequestChangeMediaStateReason, map[string]string{"mediaType": "chat", "reason": "lunch"})
	bob.wait(wire.EventMediaStateReasonChanged, isBob)

	bob.ok(wire.RequestCancelNotReadyForMedia, map[string]string{"mediaType": "chat"})
	bob.wait(wire.EventReadyForMedia, isBob)
	stat.wait(wire.EventReadyForMedia, isBob)
	bob.wait(wire.EventInvite, forID("c1"))
}

// TestAgentStateBadInput: an unknown media or reason, a reason of another
// tenant, a change the state does not allow, or a client that is no agent:
// EventError with its code, and nothing changed.
func TestAgentStateBadInput(t *testing.T) {
	h := reasonOptions(t)
	bob := h.agent("bob")
	stat := h.register("stat", "reporting")
	for _, tc := range []struct {
		c    *client
		name string
		body any
		code wire.Code
	}{
		{bob, wire.RequestNotReadyForMedia, map[string]string{"mediaType": "chat", "reason": "nap"}, wire.CodeNoSuchReason},
		{bob, wire.RequestNotReadyForMedia, map[string]string{"mediaType": "chat", "reason": "training"}, wire.CodeNoSuchReason},
		{bob, wire.RequestNotReadyForMedia, map[string]string{"mediaType": "email", "reason": "lunch"}, wire.CodeNoSuchMedia},
		{bob, wire.RequestNotReadyForMedia, map[string]string{"reason": "lunch"}, wire.CodeBadRequest},
		{bob, wire.RequestCancelNotReadyForMedia, map[string]string{"mediaType": "chat"}, wire.CodeInvalidState},
		{bob, wire.RequestChangeMediaStateReason, map[string]string{"mediaType": "chat", "reason": "lunch"}, wire.CodeInvalidState},
		{bob, wire.RequestChangeAgentStateReason, map[string]string{"reason": "lunch"}, wire.CodeInvalidState},
		{bob, wire.RequestAddMedia, map[string]string{"mediaType": "chat"}, wire.CodeInvalidState},
		{bob, wire.RequestRemoveMedia, map[string]string{"mediaType": "email"}, wire.CodeNoSuchMedia},
		{bob, wire.RequestDoNotDisturbOn, map[string]string{"agentId": "alice"}, wire.CodeBadRequest},
		{stat, wire.RequestNotReadyForMedia, map[string]string{"mediaType": "chat", "reason": "lunch"}, wire.CodeNotAllowed},
		{stat, wire.RequestDoNotDisturbOn, nil, wire.CodeNotAllowed},
		{h.register("desktop-x", "agent"), wire.RequestDoNotDisturbOn, nil, wire.CodeNotLoggedIn},
	} {
		tc.c.fails(tc.name, tc.body, tc.code)
	}
	m, err := bob.do(wire.RequestAgentAvailable, nil)
	if err != nil {
		t.Fatal(err)
	}
	var a struct{ Status ixn.AgentStatus }
	_ = json.Unmarshal(m.Body, &a)
	if a.Status.DND || len(a.Status.Media) != 1 || !a.Status.Media[0].Ready {
		t.Errorf("state after refused requests = %+v", a.Status)
	}
	for _, n := range bob.names() {
		if n != wire.EventCurrentAgentStatus && n != wire.EventAgentAvailable {
			t.Errorf("bob heard %s", n)
		}
	}
}

// TestDoNotDisturbAndMedia: an agent on do-not-disturb, or without chat in
// its login, is offered no chat; turning it off, or adding chat back,
// offers the waiting one.
func TestDoNotDisturbAndMedia(t *testing.T) {
	h := reasonOptions(t)
	chat := h.register("chat-1", "media-server")
	alice := h.agent("alice")
	if st := status(t, alice.ok(wire.RequestDoNotDisturbOn, nil)); !st.DND {
		t.Errorf("status after DND on = %+v", st)
	}
	alice.wait(wire.EventDoNotDisturbOn, nil)
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c1", "queue": "default"})
	if n := load(t, chat, "alice"); n != 0 {
		t.Fatalf("alice, on do-not-disturb, has load %d", n)
	}
	alice.ok(wire.RequestRemoveMedia, map[string]string{"mediaType": "chat"})
	alice.wait(wire.EventMediaRemoved, func(e event) bool { return e.MediaType == "chat" })
	alice.ok(wire.RequestDoNotDisturbOff, nil)
	alice.wait(wire.EventDoNotDisturbOff, nil)
	if n := load(t, chat, "alice"); n != 0 {
		t.Fatalf("alice, without chat, has load %d", n)
	}
	alice.ok(wire.RequestAddMedia, map[string]string{"mediaType": "chat"})
	alice.wait(wire.EventMediaAdded, func(e event) bool { return e.MediaType == "chat" })
	alice.wait(wire.EventInvite, forID("c1"))

	alice.ok(wire.RequestAgentNotAvailable, map[string]string{"reason": "lunch"})
	alice.ok(wire.RequestChangeAgentStateReason, map[string]string{"reason": "lunch"})
	alice.wait(wire.EventAgentStateReasonChanged, func(e event) bool { return e.Reason == "lunch" })
}

package ixnserver_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/ixn/ixnserver"
	"github.com/parley-chat/parley/internal/wire"
)

func TestBadInput(t *testing.T) { eachBackend(t, testBadInput) }

func testBadInput(t *testing.T, b backend) {
	h := b.start(t, defaultOptions(t))
	chat := h.register("chat-1", "media-server")
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c1", "queue": "default"})
	bob := h.agent("bob")
	bob.wait(wire.EventInvite, forID("c1"))
	stranger := h.dial("stranger")
	reporter := h.register("stat", "reporting")

	tests := []struct {
		name string
		c    *client
		req  string
		body any
		code wire.Code
	}{
		{"unregistered", stranger, wire.RequestSubmit, map[string]any{"interactionId": "c2", "queue": "default"}, wire.CodeNotRegistered},
		{"bad client type", stranger, wire.RequestRegisterClient, map[string]string{"clientName": "x", "clientType": "robot"}, wire.CodeBadRequest},
		{"register twice", chat, wire.RequestRegisterClient, map[string]string{"clientName": "x", "clientType": "agent"}, wire.CodeInvalidState},
		{"duplicate submit", chat, wire.RequestSubmit, map[string]any{"interactionId": "c1", "queue": "default"}, wire.CodeDuplicateInteraction},
		{"unknown queue", chat, wire.RequestSubmit, map[string]any{"interactionId": "c2", "queue": "nope"}, wire.CodeNoSuchQueue},
		{"missing queue", chat, wire.RequestSubmit, map[string]any{"interactionId": "c3"}, wire.CodeBadRequest}, // a missing id is made (TestNodeTakesItsMediaAndTenants)
		{"number property", chat, wire.RequestSubmit, map[string]any{"interactionId": "c2", "queue": "default", "properties": map[string]any{"Priority": 3}}, wire.CodeBadRequest},
		{"number in change", chat, wire.RequestChangeProperties, map[string]any{"interactionId": "c1", "changedProperties": map[string]any{"Priority": 3}}, wire.CodeBadRequest},
		{"unknown field", chat, wire.RequestSubmit, map[string]any{"interactionId": "c2", "queue": "default", "colour": "red"}, wire.CodeBadRequest},
		{"bad skill", chat, wire.RequestSubmit, map[string]any{"interactionId": "c2", "queue": "default", "properties": map[string]string{"RequiredSkill": "x:y"}}, wire.CodeBadRequest},
		{"unknown interaction", chat, wire.RequestStopProcessing, map[string]string{"interactionId": "zz"}, wire.CodeNoSuchInteraction},
		{"unknown interaction props", chat, wire.RequestChangeProperties, map[string]any{"interactionId": "zz"}, wire.CodeNoSuchInteraction},
		{"requeue to unknown queue", chat, wire.RequestPlaceInQueue, map[string]string{"interactionId": "c1", "queue": "nope"}, wire.CodeNoSuchQueue},
		{"wrong client type", reporter, wire.RequestSubmit, map[string]any{"interactionId": "c2", "queue": "default"}, wire.CodeNotAllowed},
		{"not a server request", chat, wire.EventInvite, map[string]string{}, wire.CodeNotAllowed},
		{"bad password", h.register("d", "agent"), wire.RequestAgentLogin, map[string]string{"agentId": "carol", "password": "x"}, wire.CodeLoginFailed},
		{"agent not logged in", h.register("d2", "agent"), wire.RequestAccept, map[string]string{"interactionId": "c1"}, wire.CodeNotLoggedIn},
		{"accept someone else's", h.agent("carol"), wire.RequestAccept, map[string]string{"interactionId": "c1"}, wire.CodeNoInvitation},
		{"transfer of unheld", bob, wire.RequestTransfer, map[string]string{"interactionId": "c1", "queue": "default"}, wire.CodeNotParty},
		{"transfer to both", bob, wire.RequestTransfer, map[string]string{"interactionId": "c1", "queue": "default", "agentId": "carol"}, wire.CodeBadRequest},
		{"unknown view", h.register("urs", "routing"), wire.RequestPull, map[string]any{"view": "nope"}, wire.CodeNoSuchView},
		{"subscribe unknown", reporter, wire.RequestSubscribe, map[string]string{"interactionId": "zz"}, wire.CodeNoSuchInteraction},
		{"bad topic", reporter, wire.RequestSubscribe, map[string]string{"topic": "gossip"}, wire.CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.t = t
			tt.c.fails(tt.req, tt.body, tt.code)
		})
	}
	// Nothing changed: the one interaction is still bob's invitation.
	bob.t = t
	bob.ok(wire.RequestAccept, map[string]string{"interactionId": "c1"})
	bob.fails(wire.RequestTransfer, map[string]string{"interactionId": "c1", "queue": "nope"}, wire.CodeNoSuchQueue)
	props := chat.ok(wire.RequestGetInteractionProperties, map[string]string{"interactionId": "c1"})
	in := props["interaction"].(map[string]any)
	if p := in["properties"].(map[string]any); len(p) != 2 { // QueuePosition, EstimatedWaitTime
		t.Errorf("properties changed by bad input: %v", p)
	}
	if agents, _ := in["agents"].([]any); in["state"] != "handling" || in["queue"] != "default" || len(agents) != 1 || agents[0] != "bob" {
		t.Errorf("a transfer to an unknown queue moved the interaction: %v", in)
	}
}

// TestReportingStream checks that a reporting client gets every event in
// order with increasing ids, live and replayed from fromId.
func TestReportingStream(t *testing.T) { eachBackend(t, testReportingStream) }

func testReportingStream(t *testing.T, b backend) {
	h := b.start(t, defaultOptions(t))
	live := h.register("stat-1", "reporting")
	live.ok(wire.RequestSubscribe, map[string]string{"topic": "reporting"})
	chat := h.register("chat-1", "media-server")
	alice := h.agent("alice")
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c1", "queue": "default"})
	alice.wait(wire.EventInvite, forID("c1"))
	alice.ok(wire.RequestAccept, map[string]string{"interactionId": "c1"})
	chat.ok(wire.RequestChangeProperties, map[string]any{"interactionId": "c1", "addedProperties": map[string]string{"a": "b"}})
	alice.ok(wire.RequestAgentNotAvailable, map[string]string{"reason": "lunch"})
	chat.ok(wire.RequestStopProcessing, map[string]string{"interactionId": "c1"})
	alice.ok(wire.RequestAgentLogout, nil)

	want := []string{"EventAgentLogin", "EventInteractionSubmitted", "EventPlacedInQueue", "EventAgentInvited",
		"EventPartyAdded", "EventAccepted", "EventPropertiesChanged", "EventAgentNotAvailable", "EventPartyRemoved",
		"EventProcessingStopped", "EventAgentLogout"}
	live.wait(wire.EventAgentLogout, nil)
	got := reportStream(t, live)
	if !slices.Equal(got.names, want) {
		t.Fatalf("stream\n got %v\nwant %v", got.names, want)
	}
	if got.ids[0] != 1 || !increasing(got.ids) {
		t.Errorf("ids %v", got.ids)
	}

	late := h.register("stat-2", "reporting")
	r := late.ok(wire.RequestSubscribe, map[string]any{"topic": "reporting", "fromId": 4})
	if r["lastEventId"] != float64(len(want)) {
		t.Errorf("subscribe reply %v", r)
	}
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c2", "queue": "default"})
	late.wait(wire.EventPlacedInQueue, forID("c2"))
	replayed := reportStream(t, late)
	wantLate := append(slices.Clone(want[3:]), "EventInteractionSubmitted", "EventPlacedInQueue")
	if !slices.Equal(replayed.names, wantLate) || replayed.ids[0] != 4 || !increasing(replayed.ids) {
		t.Errorf("replay from 4\n got %v %v\nwant %v", replayed.names, replayed.ids, wantLate)
	}
}

type stream struct {
	names []string
	ids   []int64
}

// reportStream returns the reporting events c received, in order.
func reportStream(t *testing.T, c *client) stream {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var s stream
	for _, m := range c.evs {
		var b struct {
			EventID int64 `json:"eventId"`
			Time    int64 `json:"time"`
		}
		if err := json.Unmarshal(m.Body, &b); err != nil || b.EventID == 0 || b.Time == 0 {
			t.Fatalf("%s without eventId or time: %s", m.Name, m.Body)
		}
		s.names, s.ids = append(s.names, m.Name), append(s.ids, b.EventID)
	}
	return s
}

func increasing(ids []int64) bool {
	for i := 1; i < len(ids); i++ {
		if ids[i] != ids[i-1]+1 {
			return false
		}
	}
	return true
}

// TestRestartKeepsInteractions restarts the server on the same database:
// interactions, their queues, properties and holders are intact, waiting
// ones are routed again, and the event ids go on.
func TestRestartKeepsInteractions(t *testing.T) { eachBackend(t, testRestartKeepsInteractions) }

func testRestartKeepsInteractions(t *testing.T, b backend) {
	dsn := b.fresh(t)
	clock := newClock()
	h := startAt(t, defaultOptions(t), b, dsn, clock)
	chat := h.register("chat-1", "media-server")
	alice := h.agent("alice")
	for _, id := range []string{"c1", "c2", "c3"} {
		chat.ok(wire.RequestSubmit, map[string]any{"interactionId": id, "queue": "default", "properties": map[string]string{"Subject": id}})
	}
	alice.wait(wire.EventInvite, forID("c2"))
	alice.ok(wire.RequestAccept, map[string]string{"interactionId": "c1"}) // c2 stays invited, c3 waits
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "e1", "queue": "ext"})
	h.stop()

	h = startAt(t, defaultOptions(t), b, dsn, clock)
	chat = h.register("chat-1", "media-server")
	for id, state := range map[string]string{"c1": "handling", "c2": "queued", "c3": "queued", "e1": "queued"} {
		in := chat.ok(wire.RequestGetInteractionProperties, map[string]string{"interactionId": id})["interaction"].(map[string]any)
		if in["state"] != state || id != "e1" && in["properties"].(map[string]any)["Subject"] != id {
			t.Errorf("%s after restart: %v", id, in)
		}
	}
	chat.fails(wire.RequestSubmit, map[string]any{"interactionId": "c3", "queue": "default"}, wire.CodeDuplicateInteraction)
	alice = h.agent("alice") // capacity 2, still holding c1: room for one
	alice.wait(wire.EventInvite, forID("c2"))
	bob := h.agent("bob")
	bob.wait(wire.EventInvite, forID("c3"))
	alice.ok(wire.RequestStopProcessing, map[string]string{"interactionId": "c1"})

	stat := h.register("stat", "reporting")
	stat.ok(wire.RequestSubscribe, map[string]any{"topic": "reporting", "fromId": 1})
	stat.wait(wire.EventProcessingStopped, forID("c1"))
	if s := reportStream(t, stat); s.ids[0] != 1 || !increasing(s.ids) {
		t.Errorf("event ids across the restart: %v", s.ids)
	}
}

// TestFailedWriteIsRefused breaks the database under a serving server: the
// request whose write fails gets EventError 106 (so that a media server
// retries it with whoever serves next), nobody hears of its change, and the
// server steps down with ErrStoreFailed instead of serving a state the
// store does not hold.
func TestFailedWriteIsRefused(t *testing.T) { eachBackend(t, testFailedWriteIsRefused) }

func testFailedWriteIsRefused(t *testing.T, b backend) {
	h := b.start(t, defaultOptions(t))
	chat := h.register("chat-1", "media-server")
	bob := h.agent("bob")
	stat := h.register("stat", "reporting")
	stat.ok(wire.RequestSubscribe, map[string]string{"topic": "reporting"})

	b.breakWrites(t, h)
	chat.fails(wire.RequestSubmit, map[string]any{"interactionId": "c1", "queue": "default"}, wire.CodeUnavailable)
	select {
	case err := <-h.done:
		h.done <- nil // for stop at cleanup
		if !errors.Is(err, ixnserver.ErrStoreFailed) {
			t.Fatalf("server stopped with %v, want ErrStoreFailed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server still serving after a failed write")
	}
	for _, c := range []*client{chat, bob, stat} {
		names := slices.DeleteFunc(c.names(), func(n string) bool { return n == wire.EventCurrentAgentStatus }) // bob's login
		if len(names) > 0 {
			t.Errorf("%s heard of the refused change: %v", c.name, names)
		}
	}
}

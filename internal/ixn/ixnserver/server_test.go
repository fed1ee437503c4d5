package ixnserver_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// TestChatLifecycle walks one chat through every agent request: routing,
// accept, property changes, workbin and async wake-up, pull, conference,
// transfer, leave and stop, checking who hears what.
func TestChatLifecycle(t *testing.T) { eachBackend(t, testChatLifecycle) }

func testChatLifecycle(t *testing.T, b backend) {
	h := b.start(t, defaultOptions(t))
	chat := h.register("chat-1", "media-server")
	alice := h.agent("alice")
	watcher := h.register("supervisor", "reporting")

	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c1", "mediaType": "chat", "queue": "default",
		"properties": map[string]string{"Subject": "billing", "RequiredSkill": "billing:3"}})
	inv := alice.wait(wire.EventInvite, forID("c1"))
	if inv.Properties["Subject"] != "billing" || inv.Kind != "route" {
		t.Errorf("invite %+v", inv)
	}
	reply := alice.ok(wire.RequestAccept, map[string]string{"interactionId": "c1"})
	if reply["interaction"].(map[string]any)["state"] != "handling" {
		t.Errorf("accept reply %v", reply)
	}
	chat.wait(wire.EventPartyAdded, func(e event) bool { return e.AgentID == "alice" })
	watcher.ok(wire.RequestSubscribe, map[string]string{"interactionId": "c1"})

	chat.ok(wire.RequestChangeProperties, map[string]any{"interactionId": "c1",
		"changedProperties": map[string]string{"Subject": "refund"}, "addedProperties": map[string]string{"GCTI_Chat_AsyncMode": "true"}})
	for _, c := range []*client{chat, alice, watcher} {
		e := c.wait(wire.EventPropertiesChanged, func(e event) bool { return slices.Contains(e.Changed, "Subject") })
		if e.Properties["Subject"] != "refund" || !slices.Equal(e.Changed, []string{"GCTI_Chat_AsyncMode", "Subject"}) {
			t.Errorf("%s: %+v", c.name, e)
		}
	}

	// On hold in the workbin, then taken back with RequestPull.
	alice.ok(wire.RequestPlaceInWorkbin, map[string]string{"interactionId": "c1", "workbin": "async"})
	alice.wait(wire.EventWorkbinContentChanged, func(e event) bool { return e.Operation == "placed_in" })
	content := alice.ok(wire.RequestGetWorkbinContent, map[string]string{"workbin": "async"})
	if list := content["interactions"].([]any); len(list) != 1 {
		t.Fatalf("workbin content %v", content)
	}
	pulled := alice.ok(wire.RequestPull, map[string]string{"interactionId": "c1"})
	if list := pulled["interactions"].([]any); len(list) != 1 || list[0].(map[string]any)["state"] != "handling" {
		t.Fatalf("pull from workbin %v", pulled)
	}

	// Async wake-up: customer activity brings it back to alice first.
	alice.ok(wire.RequestPlaceInWorkbin, map[string]string{"interactionId": "c1", "workbin": "async"})
	chat.ok(wire.RequestChangeProperties, map[string]any{"interactionId": "c1", "changedProperties": map[string]string{"GCTI_Chat_AsyncStatus": "2"}})
	alice.wait(wire.EventInvite, func(e event) bool { return e.InteractionID == "c1" && len(alice.events(wire.EventInvite)) == 2 })
	alice.ok(wire.RequestAccept, map[string]string{"interactionId": "c1"})

	// Conference bob, then alice transfers her part to carol.
	bob, carol := h.agent("bob"), h.agent("carol")
	alice.ok(wire.RequestConference, map[string]string{"interactionId": "c1", "agentId": "bob"})
	if e := bob.wait(wire.EventInvite, forID("c1")); e.Kind != "conference" {
		t.Errorf("conference invite %+v", e)
	}
	bob.ok(wire.RequestAccept, map[string]string{"interactionId": "c1"})
	alice.ok(wire.RequestTransfer, map[string]string{"interactionId": "c1", "agentId": "carol"})
	carol.wait(wire.EventInvite, forID("c1"))
	carol.ok(wire.RequestAccept, map[string]string{"interactionId": "c1"})
	props := watcher.ok(wire.RequestGetInteractionProperties, map[string]string{"interactionId": "c1"})
	if agents := props["interaction"].(map[string]any)["agents"].([]any); len(agents) != 2 || agents[0] != "bob" || agents[1] != "carol" {
		t.Errorf("holders after conference and transfer: %v", agents)
	}
	bob.ok(wire.RequestLeaveInteraction, map[string]string{"interactionId": "c1"})

	chat.ok(wire.RequestStopProcessing, map[string]string{"interactionId": "c1", "reason": "chat closed"})
	for _, c := range []*client{chat, carol, watcher} {
		if e := c.wait(wire.EventProcessingStopped, forID("c1")); e.Reason != "chat closed" {
			t.Errorf("%s: %+v", c.name, e)
		}
	}
	chat.fails(wire.RequestChangeProperties, map[string]any{"interactionId": "c1"}, wire.CodeNoSuchInteraction)
}

func TestRoutingClientPullsAndDelivers(t *testing.T) {
	eachBackend(t, testRoutingClientPullsAndDelivers)
}

func testRoutingClientPullsAndDelivers(t *testing.T, b backend) {
	h := b.start(t, defaultOptions(t))
	chat := h.register("chat-1", "media-server")
	urs := h.register("urs", "routing")
	for _, p := range []string{"1", "9", "5"} {
		chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "x" + p, "queue": "ext",
			"properties": map[string]string{"Vip": "yes", "Priority": p}, "submittedBy": "chat-1"})
	}
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "plain", "queue": "ext"})
	got := urs.ok(wire.RequestPull, map[string]any{"view": "vip", "count": 2})
	list := got["interactions"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["interactionId"] != "x9" || list[1].(map[string]any)["interactionId"] != "x5" {
		t.Fatalf("pull: %v", got)
	}
	bob := h.agent("bob")
	urs.ok(wire.RequestDeliver, map[string]string{"interactionId": "x9", "agentId": "bob"})
	bob.wait(wire.EventInvite, forID("x9"))
	urs.ok(wire.RequestPlaceInQueue, map[string]string{"interactionId": "x5", "queue": "default"})
	if q := urs.ok(wire.RequestPull, map[string]any{"queue": "ext", "count": 10}); len(q["interactions"].([]any)) != 2 {
		t.Errorf("pull from queue: %v", q)
	}
	// A routing client that goes away gives its pulled interactions back.
	urs.conn.Close()
	urs2 := h.register("urs-2", "routing")
	eventually(t, "released after the routing client left", func() bool {
		m, err := urs2.do(wire.RequestPull, map[string]any{"queue": "ext", "count": 10})
		return err == nil && strings.Count(string(m.Body), "interactionId") == 2
	})
}

func TestAgentStatesAndTimeout(t *testing.T) { eachBackend(t, testAgentStatesAndTimeout) }

func testAgentStatesAndTimeout(t *testing.T, b backend) {
	h := b.start(t, defaultOptions(t))
	chat := h.register("chat-1", "media-server")
	bob := h.agent("bob")
	r := bob.ok(wire.RequestAgentNotAvailable, map[string]string{"reason": "break"})
	if r["ready"] != false || r["reason"] != "break" {
		t.Errorf("not available: %v", r)
	}
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c1", "queue": "default"})
	bob.ok(wire.RequestAgentAvailable, nil)
	bob.wait(wire.EventInvite, forID("c1"))

	h.clock.Advance(30 * time.Second)
	if e := bob.wait(wire.EventRevoked, forID("c1")); e.Reason != "timeout" {
		t.Errorf("revoked %+v", e)
	}
	bob.fails(wire.RequestAccept, map[string]string{"interactionId": "c1"}, wire.CodeNoInvitation)

	carol := h.agent("carol")
	carol.wait(wire.EventInvite, forID("c1"))
	carol.ok(wire.RequestReject, map[string]string{"interactionId": "c1"})
	// Both are excluded until t0+90s; then bob, idle longer, comes first.
	h.clock.Advance(59 * time.Second)
	if n := len(bob.events(wire.EventInvite)) + len(carol.events(wire.EventInvite)); n != 2 {
		t.Fatalf("%d invitations while both agents are excluded", n)
	}
	h.clock.Advance(time.Second)
	eventually(t, "bob invited again", func() bool { return len(bob.events(wire.EventInvite)) == 2 })

	// A dropped desktop logs the agent out and re-routes its invitation.
	bob.conn.Close()
	eventually(t, "carol invited after bob dropped", func() bool { return len(carol.events(wire.EventInvite)) == 2 })
	carol.ok(wire.RequestAgentLogout, nil)
	carol.fails(wire.RequestAccept, map[string]string{"interactionId": "c1"}, wire.CodeNotLoggedIn)
}

func TestMultipleAgentConnections(t *testing.T) {
	for _, tt := range []struct {
		allow string
		code  wire.Code
	}{{"true", 0}, {"false", wire.CodeAlreadyLoggedIn}, {"force-logout", 0}} {
		t.Run(tt.allow, func(t *testing.T) {
			h := start(t, parseOptions(t, "      settings: {allow-multiple-agent-connections: "+tt.allow+"}\n"+agentSection("bob", 1, "")))
			first := h.agent("bob")
			second := h.register("desktop-2", "agent")
			login := map[string]string{"agentId": "bob", "password": "bob"}
			if tt.code != 0 {
				second.fails(wire.RequestAgentLogin, login, tt.code)
				return
			}
			second.ok(wire.RequestAgentLogin, login)
			if tt.allow == "force-logout" {
				first.wait(wire.EventForcedDisconnect, nil)
				eventually(t, "first connection closed", func() bool { return first.conn.Err() != nil })
			} else {
				first.ok(wire.RequestAgentAvailable, nil)
			}
			second.ok(wire.RequestAgentAvailable, nil)
		})
	}
}

func TestHealthAndMetrics(t *testing.T) {
	h := start(t, defaultOptions(t))
	h.register("chat-1", "media-server").ok(wire.RequestSubmit, map[string]any{"interactionId": "c1", "queue": "default"})
	for path, want := range map[string]string{"/healthz": "ok", "/metrics": "parley_ixn_interactions 1"} {
		eventually(t, path, func() bool {
			resp, err := http.Get("http://" + h.addr + path)
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode == 200 && strings.Contains(string(body), want)
		})
	}
}

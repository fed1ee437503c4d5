package ixnserver_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/wire"
)

// A node of a cluster refuses a submission of a media type or tenant its
// [cluster-settings] leave out, and makes ids prefixed with its name for a
// submission that brings none.
func TestNodeTakesItsMediaAndTenants(t *testing.T) {
	h := start(t, parseOptions(t, testOptions+"      cluster-settings: {media-types: \"chat, email\", tenants: \"t1\"}\n"))
	ms := h.register("chat-1", "media-server")
	ms.fails(wire.RequestSubmit, map[string]any{"interactionId": "v1", "mediaType": "voice", "queue": "default", "tenant": "t1"}, wire.CodeNoServerForMedia)
	ms.fails(wire.RequestSubmit, map[string]any{"interactionId": "c1", "queue": "default", "tenant": "t2"}, wire.CodeNoServerForMedia)
	ms.ok(wire.RequestSubmit, map[string]any{"interactionId": "e1", "mediaType": "email", "queue": "default", "tenant": "t1"})
	r := ms.ok(wire.RequestSubmit, map[string]any{"queue": "default", "tenant": "t1"})
	id, _ := r["interactionId"].(string)
	if !strings.HasPrefix(id, "ixn-1-") || len(id) != len("ixn-1-")+16 {
		t.Fatalf("made id %q, want ixn-1-<16 hex digits>", id)
	}
	got := ms.ok(wire.RequestGetInteractionProperties, map[string]any{"interactionId": id})
	if got["interaction"].(map[string]any)["mediaType"] != "chat" {
		t.Fatalf("interaction %v", got)
	}
}

// agent-login-control: ignore logs an agent in at its own id, whatever
// place it names, as every node of a cluster then agrees on.
func TestAgentLoginControlIgnore(t *testing.T) {
	for control, want := range map[string]string{"none": "desk-7", "ignore": "alice"} {
		opts := parseOptions(t, testOptions+agentSection("alice", 1, ""))
		opts.Settings.AgentLoginControl = control
		h := start(t, opts)
		c := h.register("desktop-alice", "agent")
		r := c.ok(wire.RequestAgentLogin, map[string]any{"agentId": "alice", "password": "alice", "place": "desk-7"})
		if r["place"] != want {
			t.Errorf("agent-login-control %s: place %v, want %s", control, r["place"], want)
		}
	}
}

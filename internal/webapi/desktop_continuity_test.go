package webapi_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/wire"
)

// TestDesktopGetsItsChatBackAfterAWebAPIDies: the web API of an agent's
// desktop dies while the agent is in a chat; the page reconnects through
// another web API and logs in again: the chat is given back (in the login
// reply and as EventSessionInfo with its transcript) without an
// invitation, the agent and the customer talk on, and the agent's load is
// the one chat it holds.
func TestDesktopGetsItsChatBackAfterAWebAPIDies(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ixnAddr := startIxn(t, db)
	chats := map[string]service.Endpoint{}
	for _, name := range []string{"chat-1", "chat-2"} {
		chats[name] = service.Endpoint{Name: name, Addr: startLinkedChat(t, db, name, ixnAddr).addr}
	}
	first, kill := startDeskWeb(t, "gms-1", chats, ixnAddr)
	second, _ := startDeskWeb(t, "gms-2", chats, ixnAddr)

	d := first.desk()
	d.login("alice")
	c := second.web.requestChat(nil) // the customer is on the web API that lives
	d.acceptNext(c.chatID)
	c.must("send", "message", "hello agent")
	eventually(t, "the agent sees the customer", func() bool { return d.hasText(c.chatID, "hello agent") })
	d.say(c.chatID, "hello customer", "ALL")

	kill()
	again := second.desk()
	var reply struct {
		Interactions []struct {
			InteractionID string            `json:"interactionId"`
			Properties    map[string]string `json:"properties"`
			Grant         string            `json:"grant"`
		} `json:"interactions"`
	}
	if err := json.Unmarshal(again.must(wire.RequestAgentLogin, map[string]string{"agentId": "alice", "password": "alice"}), &reply); err != nil {
		t.Fatal(err)
	}
	if len(reply.Interactions) != 1 || reply.Interactions[0].InteractionID != c.chatID {
		t.Fatalf("login reply gives back %+v, want %s", reply.Interactions, c.chatID)
	}
	if reply.Interactions[0].Grant != "" {
		t.Error("the page was sent the grant")
	}
	again.waitEvent(wire.EventSessionInfo, map[string]string{"sessionId": c.chatID})
	if texts, _ := again.transcript(c.chatID); !slices.Contains(texts, "hello agent") || !slices.Contains(texts, "hello customer") {
		t.Errorf("the desktop shows %q, want the chat's transcript again", texts)
	}
	again.say(c.chatID, "still with you", "ALL")
	var seen []string
	customerSees(t, &c, &seen, "still with you")
	c.must("send", "message", "great")
	eventually(t, "the agent sees the customer again", func() bool { return again.hasText(c.chatID, "great") })

	var ov ixn.Overview
	if err := json.Unmarshal(again.must(wire.RequestGetOverview, nil), &ov); err != nil {
		t.Fatal(err)
	}
	if len(ov.Agents) != 1 || ov.Agents[0].ID != "alice" || ov.Agents[0].Load != 1 {
		t.Errorf("agents = %+v, want alice with load 1", ov.Agents)
	}
	again.mu.Lock()
	defer again.mu.Unlock()
	for _, m := range again.events {
		if m.Name == wire.EventInvite {
			t.Errorf("the chat given back came with an invitation: %s", m.Body)
		}
	}
}

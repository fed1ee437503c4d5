package webapi_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/wire"
)

// TestDesktopNotReadyForChat: through the bridge, an agent Not Ready on
// chat with a reason is not invited to a new chat; ready for chat again,
// it is; do-not-disturb and the reason change pass too, with their events.
func TestDesktopNotReadyForChat(t *testing.T) {
	dc := startDeskCluster(t)
	d := dc.desk()
	d.login("alice")
	d.waitEvent(wire.EventCurrentAgentStatus, map[string]string{"agentId": "alice"})
	d.must(wire.RequestNotReadyForMedia, map[string]string{"mediaType": "chat", "reason": "lunch"})
	d.waitEvent(wire.EventNotReadyForMedia, map[string]string{"agentId": "alice", "mediaType": "chat", "reason": "lunch"})
	d.must(wire.RequestChangeMediaStateReason, map[string]string{"mediaType": "chat", "reason": "coffee"})
	d.waitEvent(wire.EventMediaStateReasonChanged, map[string]string{"mediaType": "chat", "reason": "coffee"})
	d.wantCode(wire.RequestNotReadyForMedia, map[string]string{"mediaType": "email", "reason": "lunch"}, wire.CodeNoSuchMedia)

	c := dc.web.requestChat(nil)
	overview := d.must(wire.RequestGetOverview, nil)
	if want := `"load":0`; !strings.Contains(string(overview), want) {
		t.Fatalf("overview while Not Ready for chat: %s, want %s", overview, want)
	}
	d.must(wire.RequestDoNotDisturbOn, nil)
	d.waitEvent(wire.EventDoNotDisturbOn, map[string]string{"agentId": "alice"})
	d.must(wire.RequestCancelNotReadyForMedia, map[string]string{"mediaType": "chat"})
	d.waitEvent(wire.EventReadyForMedia, map[string]string{"mediaType": "chat"})
	d.must(wire.RequestDoNotDisturbOff, nil)
	d.acceptNext(c.chatID)
}

// TestDesktopSupervisorIntrudes: a supervisor's desktop intrudes into the
// chat an agent handles, as a coach (INT): it is sent the transcript, sees
// the agent's messages and the agent sees its notes.
func TestDesktopSupervisorIntrudes(t *testing.T) {
	dc := startDeskCluster(t, fmt.Sprintf("      agent:sue: {password-hash: %q, capacity-chat: 2, supervisor: true}\n",
		ixn.HashPassword("sue", "parley-test-salt-sue", ixn.MinPasswordIterations)))
	d := dc.desk()
	d.login("alice")
	c := dc.web.requestChat(nil)
	d.acceptNext(c.chatID)
	sue := dc.desk()
	sue.login("sue")
	waiting := dc.web.requestChat(nil)
	var live struct {
		Interactions []struct {
			ID     string   `json:"interactionId"`
			Agents []string `json:"agents"`
		} `json:"interactions"`
	}
	if err := json.Unmarshal(sue.must(wire.RequestFindInteractions, nil), &live); err != nil {
		t.Fatal(err)
	}
	if len(live.Interactions) != 1 || live.Interactions[0].ID != c.chatID || !slices.Equal(live.Interactions[0].Agents, []string{"alice"}) {
		t.Fatalf("live chats = %+v, want only %s held by alice (%s waits)", live.Interactions, c.chatID, waiting.chatID)
	}
	d.wantCode(wire.RequestIntrude, map[string]string{"interactionId": c.chatID}, wire.CodeNotAllowed)
	sue.must(wire.RequestIntrude, map[string]string{"interactionId": c.chatID, "visibility": "INT"})
	sue.waitEvent(wire.EventSessionInfo, map[string]string{"sessionId": c.chatID})
	d.waitEvent(wire.EventPartyAdded, map[string]string{"interactionId": c.chatID, "agentId": "sue", "kind": "intrude"})
	d.say(c.chatID, "hello customer", "ALL")
	eventually(t, "the supervisor sees the agent", func() bool { return sue.hasText(c.chatID, "hello customer") })
	sue.say(c.chatID, "offer the discount", "INT")
	eventually(t, "the agent sees the coach", func() bool { return d.hasText(c.chatID, "offer the discount") })
	sue.must(wire.RequestReleaseParty, map[string]string{"interactionId": c.chatID})
	d.waitEvent(wire.EventPartyRemoved, map[string]string{"interactionId": c.chatID, "agentId": "sue"})
	d.say(c.chatID, "still here", "ALL") // the chat goes on with its agent
}

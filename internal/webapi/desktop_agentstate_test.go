package webapi_test

import (
	"strings"
	"testing"

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

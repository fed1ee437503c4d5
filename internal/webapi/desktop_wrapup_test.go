package webapi_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/wire"
)

// TestDesktopWrapUp: the login reply lists the disposition codes; after the
// customer left, Done (RequestWrapUp) without a disposition, or with one
// not configured, is refused; with one it ends the chat, and the code is
// the interaction's DispositionCode (the interaction server's reporting
// log) and in the userData filed with the transcript in the contact store.
func TestDesktopWrapUp(t *testing.T) {
	dc := startDeskCluster(t)
	d := dc.desk()
	var login struct{ DispositionCodes []string }
	reply := d.must(wire.RequestAgentLogin, map[string]string{"agentId": "alice", "password": "alice"})
	if err := json.Unmarshal(reply, &login); err != nil || !slices.Contains(login.DispositionCodes, "Resolved") {
		t.Fatalf("login reply %s: disposition codes %v (%v)", reply, login.DispositionCodes, err)
	}
	c := dc.web.requestChat(nil)
	d.acceptNext(c.chatID)
	c.must("disconnect")
	d.waitEvent(wire.EventSessionInfo, map[string]string{"sessionId": c.chatID})

	d.wantCode(wire.RequestWrapUp, map[string]string{"interactionId": c.chatID}, wire.CodeBadRequest)
	d.wantCode(wire.RequestWrapUp, map[string]string{"interactionId": c.chatID, "disposition": "Sold a boat"}, wire.CodeBadRequest)
	d.must(wire.RequestWrapUp, map[string]string{"interactionId": c.chatID, "disposition": "Resolved"})

	ctx := context.Background()
	eventually(t, "the disposition in the reporting log", func() bool {
		events, err := dc.db.Interactions().Events(ctx, 1, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			if ev.Name == wire.EventPropertiesChanged && strings.Contains(string(ev.Body), `"DispositionCode":"Resolved"`) {
				return true
			}
		}
		return false
	})
	eventually(t, "the disposition filed with the transcript", func() bool {
		in, err := dc.db.Contacts().Interaction(ctx, c.chatID)
		return err == nil && in.UserData["DispositionCode"] == "Resolved"
	})
}

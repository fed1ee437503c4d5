package webapi_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// acceptAll counts the invitations the desktop was pushed for chat id, and
// accepts those it has not accepted yet, as an agent that accepts every
// invitation at once does.
func (d *desk) acceptAll(id string, accepted *int) (invited int) {
	d.mu.Lock()
	var n int
	for _, m := range d.events {
		var body struct{ InteractionID string }
		if m.Name == wire.EventInvite && json.Unmarshal(m.Body, &body) == nil && body.InteractionID == id {
			n++
		}
	}
	d.mu.Unlock()
	for ; *accepted < n; *accepted++ {
		d.call(wire.RequestAccept, map[string]string{"interactionId": id}) // fails: the chat is not there
	}
	return n
}

// TestDesktopOrphanDoesNotStorm is issue 21's invitation storm: a chat
// waits in the queue, its chat server dies while its customer is away, and
// a ready agent that accepts every invitation must not be offered it in a
// loop (673 invitations in 10 s before): the failed join is given back as
// unjoined, and the interaction server keeps the agent away from it.
func TestDesktopOrphanDoesNotStorm(t *testing.T) {
	dc := startDeskCluster(t)
	c := dc.web.requestChat(nil)
	dc.chats[c.alias].kill() // the customer is away: nobody asks for a restore
	d := dc.desk()
	d.login("alice")
	accepted := 0
	d.waitEvent(wire.EventInvite, map[string]string{"interactionId": c.chatID})
	end := time.Now().Add(3 * time.Second)
	for time.Now().Before(end) {
		d.acceptAll(c.chatID, &accepted)
		time.Sleep(5 * time.Millisecond)
	}
	if n := d.acceptAll(c.chatID, &accepted); n > 2 {
		t.Errorf("%d invitations to an orphaned chat in 3 s, want at most 2", n)
	}
}

package webapi_test

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/store/sqlite"
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

// TestDesktopOrphanRestoredForRouting: the queued chat whose chat server
// died is restored by the surviving chat server's orphan sweeper, which
// tells the interaction server where it lives now; routing resumes there and
// the agent joins it, without an invitation storm meanwhile.
func TestDesktopOrphanRestoredForRouting(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ixnAddr := startIxn(t, db)
	lns := map[string]net.Listener{}
	peers := map[string]service.Endpoint{}
	for _, name := range []string{"chat-1", "chat-2"} {
		lns[name] = listen(t)
		peers[name] = service.Endpoint{Name: name, Addr: lns[name].Addr().String()}
	}
	chats := map[string]killable{}
	for name, ln := range lns {
		chats[name] = runChat(t, ln, chatserver.Config{Name: name, Listen: ln.Addr().String(), Options: config.DefaultChatServerOptions(),
			Transcripts: db.Transcripts(), Contacts: db.Contacts(), IxnServers: []service.Endpoint{{Name: "ixn-1", Addr: ixnAddr}},
			Peers: peers, SweepInterval: 100 * time.Millisecond})
	}
	dc, _ := startDeskWeb(t, "gms-1", peers, ixnAddr)
	dc.chats = chats

	c := dc.web.requestChat(nil)
	dc.chats[c.alias].kill()
	d := dc.desk()
	d.login("alice")
	accepted := 0
	eventually(t, "the agent in the restored chat", func() bool {
		d.acceptAll(c.chatID, &accepted)
		d.mu.Lock()
		defer d.mu.Unlock()
		for _, m := range d.events {
			var st struct{ SessionID, Alias string }
			if m.Name == wire.EventSessionInfo && json.Unmarshal(m.Body, &st) == nil && st.SessionID == c.chatID {
				return true
			}
		}
		return false
	})
	if n := d.acceptAll(c.chatID, &accepted); n > 3 {
		t.Errorf("%d invitations before the chat was restored and joined, want at most 3", n)
	}
}

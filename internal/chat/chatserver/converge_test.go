package chatserver_test

import (
	"net"
	"sync"
	"testing"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/wire"
)

// The tests of this file check that restore and deferral converge whatever
// the order of events (issue 21): a server that defers keeps nothing, a
// deferral names only a live owner whose current process holds the chat.

// servedOn checks that the server named alias serves c's chat: a refresh
// there succeeds.
func servedOn(t *testing.T, hs []*harness, c client, alias string) {
	t.Helper()
	for _, h := range hs {
		if h.name == alias && h.stop != nil {
			c.peer = h.dial(chatserver.FlexPath)
			if _, err := c.do(wire.RequestRefresh, c.ref(map[string]any{"transcriptPosition": 1})); err != nil {
				t.Fatalf("the restore named %s, which answers %v", alias, err)
			}
			return
		}
	}
	t.Fatalf("the restore named %s, which is not running", alias)
}

// restart starts h's chat server again: a new process under the same
// name, on the same address and store, holding no session.
func restart(t *testing.T, h *harness, hs []*harness) *harness {
	t.Helper()
	ln, err := net.Listen("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	peers := map[string]service.Endpoint{}
	for _, o := range hs {
		peers[o.name] = service.Endpoint{Name: o.name, Addr: o.addr}
	}
	cfg := chatserver.Config{Name: h.name, Options: h.opts, Transcripts: h.db.Transcripts(), Contacts: h.db.Contacts(), Peers: peers}
	return serveOn(t, cfg, h.db, ln)
}

// An out-of-date alias: chat-2 defers to the live owner chat-1 and keeps
// nothing, so that once chat-1 dies, chat-2 restores the chat.
func TestDeferralKeepsNoEntry(t *testing.T) {
	hs := cluster(t, 3, false)
	c, _, _ := chatOn(t, hs[0])
	st, err := restoreOn(hs[1], c, "chat-3", 1)
	if err != nil || st.Alias != "chat-1" {
		t.Fatalf("restore with an out-of-date alias = %q, %v; want a deferral to chat-1", st.Alias, err)
	}
	if k := hs[1].srv.KPI()["sessions_current"]; k != 0 {
		t.Errorf("the deferring server counts %d sessions", k)
	}
	hs[0].crash()
	st, err = restoreOn(hs[1], c, "chat-1", 1)
	if err != nil || st.Alias != "chat-2" {
		t.Fatalf("restore after the owner died = %q, %v; want chat-2 to restore it", st.Alias, err)
	}
	servedOn(t, hs, c, st.Alias)
}

// Concurrent restores on one server while the owner lives: every one is
// answered from the store, with the same deferral.
func TestConcurrentDeferrals(t *testing.T) {
	hs := cluster(t, 3, false)
	c, _, _ := chatOn(t, hs[0])
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			st, err := restoreOn(hs[1], c, "chat-3", 1)
			if err != nil || st.Alias != "chat-1" {
				t.Errorf("restore = %q, %v; want a deferral to chat-1", st.Alias, err)
			}
		})
	}
	wg.Wait()
	st, err := restoreOn(hs[1], c, "chat-3", 1)
	if err != nil || st.Alias != "chat-1" {
		t.Errorf("a later restore = %q, %v; want a deferral to chat-1", st.Alias, err)
	}
}

// Two restores race: the loser defers to the winner and keeps nothing, so
// that once the winner dies too, the loser restores the chat.
func TestRaceLoserRestoresLater(t *testing.T) {
	hs := cluster(t, 3, false)
	c, _, _ := chatOn(t, hs[0])
	hs[0].crash()
	aliases := make([]string, 2)
	var wg sync.WaitGroup
	for i, h := range hs[1:] {
		wg.Go(func() {
			st, err := restoreOn(h, c, "chat-1", 1)
			if err != nil {
				t.Errorf("restore on %s: %v", h.name, err)
			}
			aliases[i] = st.Alias
		})
	}
	wg.Wait()
	if aliases[0] != aliases[1] {
		t.Fatalf("restores answered %v, want one winner", aliases)
	}
	winner, loser := hs[1], hs[2]
	if aliases[0] == "chat-3" {
		winner, loser = hs[2], hs[1]
	}
	winner.crash()
	st, err := restoreOn(loser, c, winner.name, 1)
	if err != nil || st.Alias != loser.name {
		t.Fatalf("restore on the race's loser after the winner died = %q, %v; want %s", st.Alias, err, loser.name)
	}
	servedOn(t, hs, c, st.Alias)
}

// The owner was restarted under the same name: its new process holds no
// session, so a restore elsewhere does not defer to it.
func TestNoDeferralToRestartedOwner(t *testing.T) {
	hs := cluster(t, 3, false)
	c, _, _ := chatOn(t, hs[0])
	hs[0].crash()
	hs[0] = restart(t, hs[0], hs)
	st, err := restoreOn(hs[1], c, "chat-3", 1)
	if err != nil {
		t.Fatalf("restore = %v", err)
	}
	servedOn(t, hs, c, st.Alias)
}

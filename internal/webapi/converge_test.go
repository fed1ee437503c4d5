package webapi_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/transcript"
)

// fleet is a set of chat servers on one SQLite database that know each
// other as peers, each of which a test can stop and start again (a new
// process under the same name, on the same address).
type fleet struct {
	t     *testing.T
	db    *sqlite.DB
	peers map[string]service.Endpoint
	stops map[string]func()
}

func startFleet(t *testing.T, names ...string) *fleet {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fleet{t: t, db: db, peers: map[string]service.Endpoint{}, stops: map[string]func(){}}
	lns := map[string]net.Listener{}
	for _, name := range names {
		lns[name] = listen(t)
		f.peers[name] = service.Endpoint{Name: name, Addr: lns[name].Addr().String()}
	}
	for _, name := range names {
		f.run(name, lns[name])
	}
	return f
}

func (f *fleet) run(name string, ln net.Listener) {
	f.t.Helper()
	f.stops[name] = runChat(f.t, ln, chatserver.Config{Name: name, Options: config.DefaultChatServerOptions(),
		Transcripts: f.db.Transcripts(), Contacts: f.db.Contacts(), Files: f.db.Files(), Peers: f.peers}).kill
}

func (f *fleet) server(name string) chatServer {
	return chatServer{name: name, addr: f.peers[name].Addr}
}

// kill stops name; its chats stay in the store.
func (f *fleet) kill(name string) { f.stops[name]() }

// restart kills name and starts a new process under the same name.
func (f *fleet) restart(name string) {
	f.t.Helper()
	f.kill(name)
	ln, err := net.Listen("tcp", f.peers[name].Addr)
	if err != nil {
		f.t.Fatal(err)
	}
	f.run(name, ln)
}

// setAccepting enables or disables name for new chats and waits until
// each web API of ws sees it.
func (f *fleet) setAccepting(name string, on bool, ws ...*web) {
	f.t.Helper()
	path := "/admin/disable"
	if on {
		path = "/admin/enable"
	}
	resp, err := http.Post("http://"+f.peers[name].Addr+path, "", nil)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	for _, w := range ws {
		eventually(f.t, name+" accepting = "+map[bool]string{true: "true", false: "false"}[on], func() bool {
			return w.srv.Accepting(name) == on
		})
	}
}

// live checks that the store holds the chat live.
func (f *fleet) live(id string) {
	f.t.Helper()
	if _, err := f.db.Transcripts().Header(context.Background(), id); errors.Is(err, transcript.ErrNotFound) || err != nil {
		f.t.Fatalf("the store does not hold the chat: %v", err)
	}
}

// notEnded fails the test when env tells the customer anything but that
// the chat goes on.
func notEnded(t *testing.T, what string, env envelope) {
	t.Helper()
	if env.StatusCode != 0 || env.ChatEnded {
		t.Fatalf("%s: the customer was told %+v while the store holds the chat live", what, env)
	}
}

// A server that deferred to the owner (an out-of-date alias) is asked to
// restore the chat once the owner is gone: the customer is not told the
// chat ended.
func TestWebNoGhostAfterDeferral(t *testing.T) {
	f := startFleet(t, "chat-1", "chat-2", "chat-3")
	w := startWeb(t, nil, f.server("chat-1"), f.server("chat-2"), f.server("chat-3"))
	f.setAccepting("chat-2", false, w)
	f.setAccepting("chat-3", false, w)
	c := w.requestChat(nil)
	if c.alias != "chat-1" {
		t.Fatalf("chat on %s, want chat-1", c.alias)
	}
	f.setAccepting("chat-3", true, w)
	f.setAccepting("chat-1", false, w)

	c.alias = "chat-2" // out of date: chat-3 is asked and defers to chat-1
	env := c.call("refresh", "transcriptPosition", "1")
	notEnded(t, "refresh with an out-of-date alias", env)
	if env.Alias != "chat-1" {
		t.Fatalf("alias = %q, want the owner chat-1", env.Alias)
	}
	c.alias = env.Alias
	f.kill("chat-1")
	eventually(t, "the web API sees chat-1 gone", func() bool { return !w.srv.Connected("chat-1") })
	env = c.call("refresh", "transcriptPosition", "1")
	notEnded(t, "refresh after the owner died", env)
	f.live(c.chatID)
}

// The owner was restarted under the same name: a restore elsewhere must not
// send the customer to the new process, which does not hold the chat.
func TestWebNoDeferralToRestartedOwner(t *testing.T) {
	f := startFleet(t, "chat-1", "chat-2", "chat-3")
	w := startWeb(t, nil, f.server("chat-1"), f.server("chat-2"), f.server("chat-3"))
	f.setAccepting("chat-2", false, w)
	f.setAccepting("chat-3", false, w)
	c := w.requestChat(nil)
	if c.alias != "chat-1" {
		t.Fatalf("chat on %s, want chat-1", c.alias)
	}
	f.restart("chat-1")
	eventually(t, "the web API reconnected to chat-1", func() bool { return w.srv.Connected("chat-1") })
	f.setAccepting("chat-1", false, w)
	f.setAccepting("chat-3", true, w)

	c.alias = "chat-2" // out of date: chat-3 is asked to restore it
	env := c.call("refresh", "transcriptPosition", "1")
	notEnded(t, "refresh after the owner restarted", env)
	c.alias = env.Alias
	notEnded(t, "send on the new alias", c.call("send", "message", "still here"))
	f.live(c.chatID)
}

// Two web APIs restore one chat: the first restores it on chat-2, the
// second asks chat-3, which defers to chat-2. Once chat-2 dies too, the
// second web API has the chat restored on chat-3: the customer is never
// told the chat ended.
func TestWebTwoWebAPIsRestore(t *testing.T) {
	f := startFleet(t, "chat-1", "chat-2", "chat-3")
	all := []chatServer{f.server("chat-1"), f.server("chat-2"), f.server("chat-3")}
	w1, w2 := startWeb(t, nil, all...), startWeb(t, nil, all...)
	f.setAccepting("chat-2", false, w1, w2)
	f.setAccepting("chat-3", false, w1, w2)
	c := w1.requestChat(nil)
	f.setAccepting("chat-2", true, w1, w2)
	f.kill("chat-1")
	eventually(t, "the web APIs see chat-1 gone", func() bool { return !w1.srv.Connected("chat-1") && !w2.srv.Connected("chat-1") })

	env := c.call("refresh", "transcriptPosition", "1")
	notEnded(t, "refresh on the first web API", env)
	if env.Alias != "chat-2" {
		t.Fatalf("the first web API restored the chat on %q, want chat-2", env.Alias)
	}
	f.setAccepting("chat-2", false, w1, w2)
	f.setAccepting("chat-3", true, w1, w2)
	env = c.on(w2).call("refresh", "transcriptPosition", "1") // chat-3 defers to chat-2
	notEnded(t, "refresh on the second web API", env)
	if env.Alias != "chat-2" {
		t.Fatalf("the second web API answered alias %q, want chat-2", env.Alias)
	}
	c.alias = env.Alias
	f.kill("chat-2")
	eventually(t, "the second web API sees chat-2 gone", func() bool { return !w2.srv.Connected("chat-2") })
	notEnded(t, "refresh after chat-2 died", c.on(w2).call("refresh", "transcriptPosition", "1"))
	f.live(c.chatID)
}

// The only chat server was restarted: its new process denies having the
// chat (8200), and no other server can restore it. The web API asks the
// denying server itself to restore the chat from the store, rather than
// telling the customer the chat ended.
func TestWebOwnerDeniesRestoredFromStore(t *testing.T) {
	f := startFleet(t, "chat-1")
	w := startWeb(t, nil, f.server("chat-1"))
	c := w.requestChat(nil)
	c.must("send", "message", "before the restart")
	f.restart("chat-1")
	// The web API may still be between the old process and the new one:
	// it may answer "retry" (statusCode 1) meanwhile, as a client expects,
	// but never that the chat ended.
	var env envelope
	eventually(t, "a refresh served after the restart", func() bool {
		env = c.call("refresh", "transcriptPosition", "1")
		if env.ChatEnded || env.StatusCode > 1 {
			t.Fatalf("refresh after the restart: the customer was told %+v while the store holds the chat live", env)
		}
		return env.StatusCode == 0
	})
	notEnded(t, "send after the restart", c.call("send", "message", "after the restart"))
	f.live(c.chatID)
}

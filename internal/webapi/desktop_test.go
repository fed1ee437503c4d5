package webapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/ixn/ixnserver"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/webapi"
	"github.com/parley-chat/parley/internal/wire"
)

// deskCluster is an interaction server, two chat servers that submit their
// chats to it, and a web API whose desktop bridge logs agents in there.
type deskCluster struct {
	t     *testing.T
	chats map[string]killable
	web   *web
	addr  string // the web API's host:port
	db    *sqlite.DB
}

func startDeskCluster(t *testing.T, ixnSections ...string) *deskCluster {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ixnAddr := startIxn(t, db, ixnSections...)
	chats := map[string]killable{}
	addrs := map[string]service.Endpoint{}
	for _, name := range []string{"chat-1", "chat-2"} {
		chats[name] = startLinkedChat(t, db, name, ixnAddr)
		addrs[name] = service.Endpoint{Name: name, Addr: chats[name].addr}
	}
	dc, _ := startDeskWeb(t, "gms-1", addrs, ixnAddr)
	dc.chats, dc.db = chats, db
	return dc
}

// startDeskWeb runs a web API called name whose desktop bridge uses the
// interaction server at ixnAddr, until the test ends or kill is called.
func startDeskWeb(t *testing.T, name string, chats map[string]service.Endpoint, ixnAddr string) (*deskCluster, func()) {
	t.Helper()
	srv, err := webapi.New(webapi.Config{Name: name, ChatServers: chats, IxnServers: []service.Endpoint{{Name: "ixn-1", Addr: ixnAddr}},
		Options: config.DefaultWebAPIOptions()})
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	kill := serveUntilKilled(t, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
	dc := &deskCluster{t: t, addr: ln.Addr().String()}
	dc.web = &web{t: t, srv: srv, base: "http://" + dc.addr + "/genesys/2/chat/customer-support"}
	for name := range chats {
		eventually(t, name+" selectable", func() bool { return srv.Accepting(name) })
	}
	return dc, kill
}

// startIxn runs an interaction server with the agents alice and bob, whose
// passwords are their names, and the option sections of sections (lines
// of YAML under options).
func startIxn(t *testing.T, db *sqlite.DB, sections ...string) string {
	t.Helper()
	agents := strings.Join(sections, "")
	for _, id := range []string{"alice", "bob"} {
		agents += fmt.Sprintf("      agent:%s: {password-hash: %q, capacity-chat: 2}\n", id, ixn.HashPassword(id, "parley-test-salt-"+id, ixn.MinPasswordIterations))
	}
	d, err := config.Parse("test.yaml", []byte("databases: {main: {driver: sqlite, dsn: x.db}}\napplications:\n"+
		"  ixn-1:\n    type: interaction-server\n    listen: 127.0.0.1:1\n    database: main\n    options:\n"+agents))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ixnserver.New(ixnserver.Config{Name: "ixn-1", Options: *d.Applications["ixn-1"].Ixn, Store: db.Interactions()})
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	serve(t, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
	return ln.Addr().String()
}

// startLinkedChat runs chat server name, linked to the interaction server,
// until the test ends or it is killed.
func startLinkedChat(t *testing.T, db *sqlite.DB, name, ixnAddr string) killable {
	t.Helper()
	ln := listen(t)
	return runChat(t, ln, chatserver.Config{Name: name, Listen: ln.Addr().String(), Options: config.DefaultChatServerOptions(),
		Transcripts: db.Transcripts(), Contacts: db.Contacts(), Files: db.Files(), IxnServers: []service.Endpoint{{Name: "ixn-1", Addr: ixnAddr}}})
}

// runChat runs a chat server of cfg on ln until the test ends or it is
// killed.
func runChat(t *testing.T, ln net.Listener, cfg chatserver.Config) killable {
	t.Helper()
	srv, err := chatserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kill := serveUntilKilled(t, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
	return killable{chatServer{name: cfg.Name, addr: ln.Addr().String()}, kill}
}

// serveUntilKilled runs serve until the test ends or the returned kill is
// called, which waits for it to return.
func serveUntilKilled(t *testing.T, serve func(context.Context) error) (kill func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx) }()
	var once sync.Once
	kill = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(kill)
	return kill
}

// desk is an agent desktop's bridge session, as the page sees it.
type desk struct {
	t    *testing.T
	conn *wire.Conn

	mu     sync.Mutex
	events []wire.Message
}

func (dc *deskCluster) desk() *desk {
	dc.t.Helper()
	c, err := wire.Dial(context.Background(), "ws://"+dc.addr+"/desktop/ws", wire.Options{})
	if err != nil {
		dc.t.Fatal(err)
	}
	d := &desk{t: dc.t, conn: c}
	serve(dc.t, func(ctx context.Context) error {
		c.Serve(ctx, wire.HandlerFunc(func(_ context.Context, _ *wire.Conn, m wire.Message) {
			d.mu.Lock()
			d.events = append(d.events, m)
			d.mu.Unlock()
		}))
		return nil
	})
	return d
}

// call sends a request and returns its reply body or its error.
func (d *desk) call(name string, body map[string]string) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var reply json.RawMessage
	_, err := d.conn.Request(ctx, name, body, &reply)
	return reply, err
}

func (d *desk) must(name string, body map[string]string) json.RawMessage {
	d.t.Helper()
	reply, err := d.call(name, body)
	if err != nil {
		d.t.Fatalf("%s: %v", name, err)
	}
	return reply
}

// wantCode checks that a request fails with code.
func (d *desk) wantCode(name string, body map[string]string, code wire.Code) {
	d.t.Helper()
	_, err := d.call(name, body)
	if we, ok := errors.AsType[*wire.Error](err); !ok || we.Code != code {
		d.t.Fatalf("%s: error %v, want code %d", name, err, code)
	}
}

// waitEvent waits for an event named name whose body has every field of want.
func (d *desk) waitEvent(name string, want map[string]string) map[string]any {
	d.t.Helper()
	var found map[string]any
	eventually(d.t, fmt.Sprintf("%s %v", name, want), func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		for _, m := range d.events {
			var body map[string]any
			if m.Name == name && json.Unmarshal(m.Body, &body) == nil && matches(body, want) {
				found = body
				return true
			}
		}
		return false
	})
	return found
}

func matches(body map[string]any, want map[string]string) bool {
	for k, v := range want {
		if fmt.Sprint(body[k]) != v {
			return false
		}
	}
	return true
}

// transcript is every chat message the desktop was pushed for chat id, in
// index order, with the number of times it came.
func (d *desk) transcript(id string) (texts []string, dups int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := map[int]bool{}
	var msgs []transcript.APIMessage
	for _, m := range d.events {
		var st struct {
			SessionID string
			Messages  []transcript.APIMessage
		}
		if m.Name != wire.EventSessionInfo || json.Unmarshal(m.Body, &st) != nil || st.SessionID != id {
			continue
		}
		for _, msg := range st.Messages {
			if seen[msg.Index] {
				continue // a rejoin resends from the position the page had
			}
			seen[msg.Index] = true
			msgs = append(msgs, msg)
		}
	}
	slices.SortFunc(msgs, func(a, b transcript.APIMessage) int { return a.Index - b.Index })
	for _, msg := range msgs {
		if msg.Type == transcript.Message {
			if slices.Contains(texts, msg.Text) {
				dups++
			}
			texts = append(texts, msg.Text)
		}
	}
	return texts, dups
}

// hasText reports whether the desktop was pushed a message text in chat id.
func (d *desk) hasText(id, text string) bool {
	texts, _ := d.transcript(id)
	return slices.Contains(texts, text)
}

// login logs agent in (its password is its name).
func (d *desk) login(agent string) {
	d.t.Helper()
	d.must(wire.RequestAgentLogin, map[string]string{"agentId": agent, "password": agent})
}

// acceptNext waits for an invitation to chat id and accepts it.
func (d *desk) acceptNext(id string) {
	d.t.Helper()
	d.waitEvent(wire.EventInvite, map[string]string{"interactionId": id})
	d.must(wire.RequestAccept, map[string]string{"interactionId": id})
	d.waitEvent(wire.EventSessionInfo, map[string]string{"sessionId": id})
}

func (d *desk) say(id, text, vis string) {
	d.t.Helper()
	d.must(wire.RequestMessage, map[string]string{"interactionId": id, "text": text, "visibility": vis})
}

// customerSees polls as a REST client does until the customer has text.
func customerSees(t *testing.T, c *customer, seen *[]string, text string) {
	t.Helper()
	eventually(t, "the customer sees "+text, func() bool {
		env := c.call("refresh", "transcriptPosition", "1")
		if env.Alias != "" {
			c.alias = env.Alias
		}
		*seen = (*seen)[:0]
		for _, m := range env.Messages {
			if m.Type == transcript.Message {
				*seen = append(*seen, m.Text)
			}
		}
		return slices.Contains(*seen, text)
	})
}

func TestDesktopRefusesBeforeLogin(t *testing.T) {
	dc := startDeskCluster(t)
	d := dc.desk()
	d.wantCode(wire.RequestAgentAvailable, nil, wire.CodeNotLoggedIn)
	d.wantCode(wire.RequestAgentLogin, map[string]string{"agentId": "alice", "password": "wrong"}, wire.CodeLoginFailed)
	d.wantCode(wire.RequestAgentLogin, map[string]string{"agentId": "alice"}, wire.CodeBadRequest)
	d.login("alice")
	d.wantCode(wire.RequestAgentLogin, map[string]string{"agentId": "alice", "password": "alice"}, wire.CodeInvalidState)
	d.wantCode(wire.RequestSubmit, nil, wire.CodeNotAllowed)
	d.wantCode(wire.RequestMessage, map[string]string{"interactionId": "nope", "text": "hi"}, wire.CodeNoSuchInteraction)
	d.wantCode(wire.RequestAccept, map[string]string{"interactionId": "nope"}, wire.CodeNoSuchInteraction)
	if _, err := d.call(wire.RequestAgentLogin, map[string]string{"agentId": "alice", "password": "alice", "bogus": "x"}); err == nil {
		t.Error("an unknown field was accepted")
	}
}

// TestDesktopChatFollowsFailover is the seed's HA test through the bridge:
// the agent accepts, they talk (with an INT message the customer never
// sees), the owning chat server dies, the customer's next poll restores the
// chat elsewhere, the desktop follows it there and they talk again.
func TestDesktopChatFollowsFailover(t *testing.T) {
	dc := startDeskCluster(t)
	d := dc.desk()
	d.login("alice")
	c := dc.web.requestChat(nil)
	d.acceptNext(c.chatID)
	c.must("send", "message", "hello agent")
	eventually(t, "the agent sees the customer", func() bool { return d.hasText(c.chatID, "hello agent") })
	d.say(c.chatID, "hello customer", "ALL")
	d.say(c.chatID, "note to agents", "INT")
	var seen []string
	customerSees(t, &c, &seen, "hello customer")

	dc.chats[c.alias].kill()
	from := c.alias
	// The customer polls until a poll restores the chat elsewhere: one may
	// still be answered from the web API's buffer before it sees the death.
	eventually(t, "the chat restored on another chat server", func() bool {
		if env := c.call("refresh", "transcriptPosition", "1"); env.Alias != "" {
			c.alias = env.Alias
		}
		return c.alias != from
	})
	d.waitEvent(wire.EventLocationChanged, map[string]string{"interactionId": c.chatID, "chatServer": c.alias, "previous": from})
	eventually(t, "the message after the move is sent", func() bool {
		_, err := d.call(wire.RequestMessage, map[string]string{"interactionId": c.chatID, "text": "still here", "visibility": "ALL"})
		return err == nil
	})
	c.must("send", "message", "me too")
	customerSees(t, &c, &seen, "still here")
	eventually(t, "the agent sees the customer after the move", func() bool { return d.hasText(c.chatID, "me too") })

	if slices.Contains(seen, "note to agents") {
		t.Errorf("the customer saw an INT message: %q", seen)
	}
	want := []string{"hello agent", "hello customer", "note to agents", "still here", "me too"}
	if got, dups := d.transcript(c.chatID); !slices.Equal(got, want) || dups != 0 {
		t.Errorf("agent transcript %q (%d duplicates), want %q", got, dups, want)
	}
	d.must(wire.RequestReleaseParty, map[string]string{"interactionId": c.chatID, "afterAction": "ForceClose"})
	eventually(t, "the chat ends for the customer", func() bool { return c.call("refresh").ChatEnded })
}

// TestDesktopTransferAndWorkbin hands a chat from alice to bob, who holds
// it in his workbin and picks it up again; the customer talks throughout.
func TestDesktopTransferAndWorkbin(t *testing.T) {
	dc := startDeskCluster(t)
	alice, bob := dc.desk(), dc.desk()
	alice.login("alice")
	c := dc.web.requestChat(nil)
	alice.acceptNext(c.chatID)
	bob.login("bob")
	alice.must(wire.RequestTransfer, map[string]string{"interactionId": c.chatID, "agentId": "bob"})
	bob.waitEvent(wire.EventInvite, map[string]string{"interactionId": c.chatID, "kind": "transfer", "fromAgentId": "alice"})
	bob.must(wire.RequestAccept, map[string]string{"interactionId": c.chatID})
	alice.waitEvent(wire.EventPartyRemoved, map[string]string{"interactionId": c.chatID, "agentId": "alice"})
	eventually(t, "alice left the chat", func() bool {
		_, err := alice.call(wire.RequestMessage, map[string]string{"interactionId": c.chatID, "text": "x"})
		return err != nil
	})
	bob.say(c.chatID, "bob here", "ALL")
	var seen []string
	customerSees(t, &c, &seen, "bob here")

	bob.must(wire.RequestPlaceInWorkbin, map[string]string{"interactionId": c.chatID})
	bob.waitEvent(wire.EventWorkbinContentChanged, map[string]string{"interactionId": c.chatID, "operation": "placed_in"})
	var content struct {
		Interactions []struct{ InteractionID string }
	}
	json.Unmarshal(bob.must(wire.RequestGetWorkbinContent, nil), &content)
	if len(content.Interactions) != 1 || content.Interactions[0].InteractionID != c.chatID {
		t.Fatalf("workbin = %+v", content)
	}
	c.must("send", "message", "while on hold")
	bob.must(wire.RequestPull, map[string]string{"interactionId": c.chatID})
	eventually(t, "bob sees the message sent on hold", func() bool { return bob.hasText(c.chatID, "while on hold") })
	bob.say(c.chatID, "back again", "ALL")
	customerSees(t, &c, &seen, "back again")
}

// TestDesktopOverview asks for the supervisor view through the bridge: a
// handled chat, a waiting one in its queue and both agents with their state.
func TestDesktopOverview(t *testing.T) {
	dc := startDeskCluster(t)
	alice, bob := dc.desk(), dc.desk()
	alice.wantCode(wire.RequestGetOverview, nil, wire.CodeNotLoggedIn)
	alice.login("alice")
	alice.must(wire.RequestAgentNotAvailable, map[string]string{"reason": "training"})
	c := dc.web.requestChat(nil)
	bob.login("bob")
	bob.acceptNext(c.chatID)
	bob.must(wire.RequestAgentNotAvailable, map[string]string{"reason": "wrap-up"})
	waiting := dc.web.requestChat(nil)
	var ov ixn.Overview
	if err := json.Unmarshal(alice.must(wire.RequestGetOverview, nil), &ov); err != nil {
		t.Fatal(err)
	}
	if len(ov.Agents) != 2 {
		t.Fatalf("agents = %+v", ov.Agents)
	}
	a, b := ov.Agents[0], ov.Agents[1]
	if a.ID != "alice" || a.Ready || a.Reason != "training" || a.Load != 0 || a.Capacity != 2 {
		t.Errorf("alice = %+v", a)
	}
	if b.ID != "bob" || b.Ready || b.Reason != "wrap-up" || b.Load != 1 || b.Capacity != 2 {
		t.Errorf("bob = %+v", b)
	}
	var ids []string
	for _, q := range ov.Queues {
		ids = append(ids, q.Interactions...)
	}
	if !slices.Equal(ids, []string{waiting.chatID}) {
		t.Errorf("waiting = %v, want only %s (%s is handled)", ids, waiting.chatID, c.chatID)
	}
}

// TestDesktopConference: alice brings bob into her chat; both are in it, an
// INT message between them never reaches the customer, and the customer
// sees both agents' messages to all.
func TestDesktopConference(t *testing.T) {
	dc := startDeskCluster(t)
	alice, bob := dc.desk(), dc.desk()
	alice.login("alice")
	c := dc.web.requestChat(nil)
	alice.acceptNext(c.chatID)
	bob.login("bob")
	alice.must(wire.RequestConference, map[string]string{"interactionId": c.chatID, "agentId": "bob"})
	bob.waitEvent(wire.EventInvite, map[string]string{"interactionId": c.chatID, "kind": "conference", "fromAgentId": "alice"})
	bob.must(wire.RequestAccept, map[string]string{"interactionId": c.chatID})
	bob.waitEvent(wire.EventSessionInfo, map[string]string{"sessionId": c.chatID})

	bob.say(c.chatID, "between us: refund approved", "INT")
	eventually(t, "alice sees bob's internal note", func() bool { return alice.hasText(c.chatID, "between us: refund approved") })
	alice.say(c.chatID, "your refund is approved", "ALL")
	bob.say(c.chatID, "hello from bob", "ALL")
	var seen []string
	customerSees(t, &c, &seen, "hello from bob")
	if !slices.Contains(seen, "your refund is approved") {
		t.Errorf("customer transcript %q lacks alice's message", seen)
	}
	if slices.Contains(seen, "between us: refund approved") {
		t.Error("the customer saw an INT message")
	}
}

package chatserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/ixn/ixnserver"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/store/postgres"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// ixnServer is an interaction server on a loopback port over its own
// SQLite file, with the demo agent alice.
type ixnServer struct {
	t    *testing.T
	addr string
	stop func() // also run at cleanup
}

// startIxn starts an interaction server on addr ("127.0.0.1:0" for any
// port) over the SQLite file path.
func startIxn(t *testing.T, addr, path string) *ixnServer {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ixnserver.New(ixnserver.Config{Name: "ixn-1", Options: ixnOptions(t), Store: db.Interactions()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	x := &ixnServer{t: t, addr: ln.Addr().String()}
	x.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("interaction server: %v", err)
			}
			db.Close()
		})
	}
	t.Cleanup(x.stop)
	eventually(t, "the interaction server ready", func() bool { return healthy(x.addr) })
	return x
}

// healthy reports whether the server at addr answers /healthz with 200.
func healthy(addr string) bool {
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// ixnOptions configures the demo agent alice the way the embedded
// deployment does: password alice, salted SHA-256.
func ixnOptions(t *testing.T) config.InteractionServerOptions {
	t.Helper()
	d, err := config.Parse("test.yaml", fmt.Appendf(nil, `
databases: {main: {driver: sqlite, dsn: x.db}}
applications:
  ixn-1:
    type: interaction-server
    listen: 127.0.0.1:1
    database: main
    options:
      agent:alice: {password-hash: %q, capacity-chat: 3}
`, ixn.HashPassword("alice", "parley-test-salt-alice", ixn.MinPasswordIterations)))
	if err != nil {
		t.Fatal(err)
	}
	return *d.Applications["ixn-1"].Ixn
}

// chatServers starts n chat servers (chat-1, ...) on one SQLite database,
// each connected to the interaction server at ixnAddrs.
func chatServers(t *testing.T, n int, ixnAddrs []string, now func() time.Time, edit func(*config.ChatServerOptions)) []*harness {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	hs := make([]*harness, n)
	for i := range hs {
		opts := defaultOptions(t)
		if edit != nil {
			edit(&opts)
		}
		cfg := chatserver.Config{Name: name(i), Options: opts, Transcripts: db.Transcripts(), Contacts: db.Contacts(),
			Now: now, IxnServers: endpoints(ixnAddrs)}
		hs[i] = serve(t, cfg, db)
	}
	return hs
}

// ixnClient is a wire connection to the interaction server (an agent
// desktop, a routing client) that records the events it receives.
type ixnClient struct {
	t    *testing.T
	conn *wire.Conn
	mu   sync.Mutex
	evs  []wire.Message
}

// ixnEvent is an interaction server event as the tests read it.
type ixnEvent struct {
	InteractionID string            `json:"interactionId"`
	Properties    map[string]string `json:"properties"`
	Reason        string            `json:"reason"`
}

func (x *ixnServer) register(name, kind string) *ixnClient {
	x.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := wire.Dial(ctx, "ws://"+x.addr+ixnserver.Path, wire.Options{})
	if err != nil {
		x.t.Fatal(err)
	}
	c := &ixnClient{t: x.t, conn: conn}
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn.Serve(ctx, wire.HandlerFunc(func(_ context.Context, _ *wire.Conn, m wire.Message) {
			c.mu.Lock()
			c.evs = append(c.evs, m)
			c.mu.Unlock()
		}))
	}()
	x.t.Cleanup(func() { cancel(); conn.Close(); <-done })
	c.ok(wire.RequestRegisterClient, map[string]string{"clientName": name, "clientType": kind})
	return c
}

// agent logs alice in, as a desktop does.
func (x *ixnServer) agent() *ixnClient {
	x.t.Helper()
	c := x.register("desktop-alice", "agent")
	c.ok(wire.RequestAgentLogin, map[string]string{"agentId": "alice", "password": "alice"})
	return c
}

func (c *ixnClient) do(name string, body any) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var reply map[string]any
	_, err := c.conn.Request(ctx, name, body, &reply)
	return reply, err
}

func (c *ixnClient) ok(name string, body any) map[string]any {
	c.t.Helper()
	reply, err := c.do(name, body)
	if err != nil {
		c.t.Fatalf("%s: %v", name, err)
	}
	return reply
}

// wait waits for an event named name about interaction id for which match
// (nil: any) holds.
func (c *ixnClient) wait(name, id string, match func(ixnEvent) bool) ixnEvent {
	c.t.Helper()
	var found ixnEvent
	eventually(c.t, name+" for "+id, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, m := range c.evs {
			var ev ixnEvent
			if m.Name == name && json.Unmarshal(m.Body, &ev) == nil && ev.InteractionID == id && (match == nil || match(ev)) {
				found = ev
				return true
			}
		}
		return false
	})
	return found
}

// properties returns the interaction's properties, or false while the
// interaction server does not have it.
func (c *ixnClient) properties(id string) (map[string]string, bool) {
	var reply struct {
		Interaction struct {
			Properties map[string]string `json:"properties"`
		} `json:"interaction"`
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.conn.Request(ctx, wire.RequestGetInteractionProperties, map[string]string{"interactionId": id}, &reply)
	return reply.Interaction.Properties, err == nil
}

// at returns whether the location properties name chat server h.
func at(h *harness) func(ixnEvent) bool {
	return func(ev ixnEvent) bool {
		return ev.Properties[chatserver.PropChatServerApplication] == h.name && ev.Properties[chatserver.PropChatServerAddress] == h.addr
	}
}

func TestChatFollowsItsInteraction(t *testing.T) {
	x := startIxn(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "ixn.db"))
	hs := chatServers(t, 2, []string{x.addr}, nil, nil)
	a, b := hs[0], hs[1]
	alice := x.agent()
	c := a.login(a.dial(chatserver.FlexPath))

	inv := alice.wait(wire.EventInvite, c.sessionID, at(a))
	if p := inv.Properties; p[chatserver.PropChatSessionID] != c.sessionID || p["Order"] != "42" || p["Subject"] != "Order 42" {
		t.Errorf("invitation properties = %v", p)
	}
	alice.ok(wire.RequestAccept, map[string]string{"interactionId": c.sessionID})
	desk := a.dial(chatserver.BasicPath)
	joined := a.joinAgent(desk, c.sessionID, nil)
	agentID := joined.UserID
	c.must(wire.RequestMessage, c.ref(map[string]any{"text": "hello"}))
	desk.must(wire.RequestMessage, map[string]any{"sessionId": c.sessionID, "userId": agentID, "text": "hi"})
	seen := c.must(wire.RequestRefresh, c.ref(map[string]any{"transcriptPosition": 1})).NextPosition

	a.crash()
	if _, err := restoreOn(b, c, "chat-1", seen); err != nil {
		t.Fatal(err)
	}
	alice.wait(wire.EventPropertiesChanged, c.sessionID, at(b))
	desk = b.dial(chatserver.BasicPath)
	desk.must(wire.RequestJoin, map[string]any{"sessionId": c.sessionID, "userId": agentID, "secureKey": joined.SecureKey, "transcriptPosition": seen})
	desk.must(wire.RequestMessage, map[string]any{"sessionId": c.sessionID, "userId": agentID, "text": "still here"})
	moved := client{peer: b.dial(chatserver.FlexPath), sessionID: c.sessionID, userID: c.userID, key: c.key}
	st := moved.must(wire.RequestRefresh, moved.ref(map[string]any{"transcriptPosition": seen}))
	if last := st.Messages[len(st.Messages)-1]; last.Text != "still here" {
		t.Errorf("client's last message after the move = %+v", last)
	}

	desk.must(wire.RequestReleaseParty, map[string]any{"sessionId": c.sessionID, "userId": agentID, "afterAction": "ForceClose"})
	alice.wait(wire.EventProcessingStopped, c.sessionID, nil)
	if _, ok := alice.properties(c.sessionID); ok {
		t.Error("the interaction of the ended chat is still there")
	}
	if k := b.srv.KPI(); k["ixn_submit_failed"] != 0 {
		t.Errorf("kpi = %v", k)
	}
}

func TestWorkflowStopClosesRestoredChat(t *testing.T) {
	x := startIxn(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "ixn.db"))
	hs := chatServers(t, 2, []string{x.addr}, nil, nil)
	a, b := hs[0], hs[1]
	urs := x.register("urs", "routing")
	c := a.login(a.dial(chatserver.FlexPath))
	eventually(t, "the interaction submitted", func() bool { _, ok := urs.properties(c.sessionID); return ok })
	a.crash()
	if _, err := restoreOn(b, c, "chat-1", 1); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new location", func() bool {
		p, _ := urs.properties(c.sessionID)
		return p[chatserver.PropChatServerApplication] == "chat-2"
	})
	c.peer = b.dial(chatserver.FlexPath)

	// chat-1 submitted the interaction, so its events go to chat-1; chat-2
	// follows it since the restore.
	urs.ok(wire.RequestStopProcessing, map[string]string{"interactionId": c.sessionID, "reason": "workflow"})
	eventually(t, "the chat closed with reason 5", func() bool {
		st := c.must(wire.RequestRefresh, c.ref(map[string]any{"transcriptPosition": 1}))
		for _, m := range st.Messages {
			if leftWith("5")(m, st) && m.From.Type == transcript.Client {
				return st.ChatEnded
			}
		}
		return false
	})
	if k := b.srv.KPI(); k["session_closed"] != 1 {
		t.Errorf("kpi of chat-2 = %v", k)
	}
}

func TestWorkflowStopClosesChatOnItsSubmitter(t *testing.T) {
	x := startIxn(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "ixn.db"))
	a := chatServers(t, 1, []string{x.addr}, nil, func(o *config.ChatServerOptions) { o.Settings.IxnSubmittedByName = "chat-pool" })[0]
	urs := x.register("urs", "routing")
	c := a.login(a.dial(chatserver.FlexPath))
	c.must(wire.RequestSubscribe, c.ref(nil))
	eventually(t, "the interaction submitted", func() bool { _, ok := urs.properties(c.sessionID); return ok })
	urs.ok(wire.RequestStopProcessing, map[string]string{"interactionId": c.sessionID, "reason": "workflow"})
	c.waitPush("the client removed with reason 5", leftWith("5"))
}

func TestSubmitRetriedUntilIxnComesBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ixn.db")
	x := startIxn(t, "127.0.0.1:0", path)
	addr := x.addr
	x.stop()
	a := chatServers(t, 1, []string{addr}, nil, nil)[0]
	c := a.login(a.dial(chatserver.FlexPath)) // the chat is not lost
	eventually(t, "the failure counted", func() bool { return a.srv.KPI()["ixn_submit_failed"] == 1 })

	x = startIxn(t, addr, path)
	urs := x.register("urs", "routing")
	eventually(t, "the submit landed", func() bool {
		p, ok := urs.properties(c.sessionID)
		return ok && p[chatserver.PropChatServerApplication] == "chat-1"
	})
}

func TestAsyncPropertiesReachIxn(t *testing.T) {
	x := startIxn(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "ixn.db"))
	clk := &clock{now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	a := chatServers(t, 1, []string{x.addr}, clk.Now, func(o *config.ChatServerOptions) {
		o.Settings.AsyncIdleAlert = time.Minute
		o.Settings.AsyncIdleClose = time.Hour
		o.Settings.FlexDisconnectTimeout = time.Hour // the client does not poll here
	})[0]
	clk.srv = a.srv
	p := a.dial(chatserver.FlexPath)
	st := p.must(wire.RequestLogin, map[string]any{"nickname": "Ann", "queue": "default",
		"userData": map[string]string{"GCTI_Chat_AsyncMode": "true"}})
	urs := x.register("urs", "routing")
	eventually(t, "the interaction submitted", func() bool { _, ok := urs.properties(st.SessionID); return ok })

	clk.advance(61 * time.Second)
	checkAt := strconv.FormatInt(clk.Now().Add(time.Hour).Unix(), 10)
	eventually(t, "the async alert properties", func() bool {
		props, _ := urs.properties(st.SessionID)
		return props["GCTI_Chat_AsyncStatus"] == "3" && props["GCTI_Chat_AsyncCheckAt"] == checkAt
	})
}

// startPairMember starts one interaction server of a primary/backup pair
// on PostgreSQL; the returned func kills it (Serve cancelled, pool closed).
func startPairMember(t *testing.T, dsn string) (addr string, kill func()) {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ixnserver.New(ixnserver.Config{Name: "ixn", Options: ixnOptions(t), Store: db.Interactions(),
		Lock: ixnserver.AdvisoryLock{DSN: dsn, Check: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	kill = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("interaction server: %v", err)
			}
			db.Close()
		})
	}
	t.Cleanup(kill)
	return ln.Addr().String(), kill
}

func TestChatServerFollowsThePrimary(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	primary, kill := startPairMember(t, dsn)
	x := &ixnServer{t: t, addr: primary}
	eventually(t, "a primary", func() bool { return healthy(primary) })
	urs := x.register("urs", "routing")
	backup, _ := startPairMember(t, dsn)
	a := chatServers(t, 1, []string{primary, backup}, nil, nil)[0]
	before := a.login(a.dial(chatserver.FlexPath))
	eventually(t, "the first chat submitted", func() bool { _, ok := urs.properties(before.sessionID); return ok })

	kill()
	after := a.login(a.dial(chatserver.FlexPath))
	eventually(t, "the backup serving", func() bool { return healthy(backup) })
	x.addr = backup
	urs = x.register("urs", "routing")
	eventually(t, "both chats on the new primary", func() bool {
		_, ok1 := urs.properties(before.sessionID)
		_, ok2 := urs.properties(after.sessionID)
		return ok1 && ok2
	})
}

// endpoints names the interaction servers at addrs ixn-1, ixn-2, ...
func endpoints(addrs []string) []service.Endpoint {
	eps := make([]service.Endpoint, len(addrs))
	for i, a := range addrs {
		eps[i] = service.Endpoint{Name: fmt.Sprintf("ixn-%d", i+1), Addr: a}
	}
	return eps
}

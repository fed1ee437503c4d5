package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/wire"
)

// startESPCluster is startIxnCluster with a workflow: the routing client
// flow-1 declared on the interaction server, queue as the default queue's
// options, and chatSettings in both chat servers' [settings].
func startESPCluster(t *testing.T, queue, chatSettings string) *cluster {
	t.Helper()
	return startESPClusterOn(t, "sqlite", queue, chatSettings)
}

// startESPClusterOn is startESPCluster on database db ("sqlite" or a
// PostgreSQL DSN).
func startESPClusterOn(t *testing.T, db, queue, chatSettings string) *cluster {
	t.Helper()
	dir := t.TempDir()
	c := newCluster(t, dir, "ixn-1", "chat-1", "chat-2", "gms-1")
	database := databaseYAML(db)
	yaml := fmt.Sprintf(`data-dir: %s
databases:
  main: %s
applications:
  ixn-1:
    type: interaction-server
    listen: "%s"
    database: main
    options:
      client:flow-1: {type: routing}
      queue:default: {%s}
      agent:alice: {password-hash: "pbkdf2-sha256$1000$cGFybGV5LXRlc3Qtc2FsdC1hbGljZQ$eAr0mFoiHQh9dyB/Sk/MIr51rvCiPeCfzAtr3cGQ0fg", capacity-chat: 3}
  chat-1: {type: chat-server, listen: "%s", database: main, connections: [ixn-1], options: {settings: {%s}}}
  chat-2: {type: chat-server, listen: "%s", database: main, connections: [ixn-1], options: {settings: {%s}}}
  gms-1: {type: web-api, listen: "%s", connections: [chat-1, chat-2, ixn-1], options: {settings: {request-timeout: 4}}}
`, c.dataDir, database, c.addrs["ixn-1"], queue, c.addrs["chat-1"], chatSettings, c.addrs["chat-2"], chatSettings, c.addrs["gms-1"])
	c.launch(dir, yaml, "ixn-1", "chat-1", "chat-2", "gms-1")
	return c
}

// workflow connects to ixn-1 as the routing client flow-1, with the key
// `parley client-key --name flow-1` prints.
func (c *cluster) workflow(ctx context.Context) *wire.Conn {
	c.t.Helper()
	p := peerAs(c.t, c.dataDir, "flow-1")
	p.key = p.key.ClientKey("flow-1")
	conn := p.dial(ctx, c.t, c.url("ixn-1", "ws", "/wire/ixn"), "ixn-1", nil)
	request(ctx, c.t, conn, wire.RequestRegisterClient, map[string]string{"clientName": "flow-1", "clientType": "routing"}, nil)
	return conn
}

// espReply is the part of Event3rdServerResponse the tests read.
type espReply struct {
	AppName    string            `json:"appName"`
	Parameters map[string]string `json:"parameters"`
	Messages   []espMessage      `json:"messages"`
}

// espMessage is the part of a transcript event the tests read.
type espMessage struct {
	Text string `json:"text"`
	Type string `json:"type"`
	From struct {
		Nickname string `json:"nickname"`
		Type     string `json:"type"`
	} `json:"from"`
}

// esp sends Request3rdServer for method of the Chat service on chat id.
func esp(ctx context.Context, conn *wire.Conn, id, method string, params map[string]string) (espReply, error) {
	var r espReply
	_, err := conn.Request(ctx, wire.Request3rdServer, map[string]any{"interactionId": id, "service": "Chat", "method": method, "parameters": params}, &r)
	return r, err
}

func mustESP(ctx context.Context, t *testing.T, conn *wire.Conn, id, method string, params map[string]string) espReply {
	t.Helper()
	r, err := esp(ctx, conn, id, method, params)
	if err != nil {
		t.Fatalf("ESP %s: %v", method, err)
	}
	return r
}

func wantCode(t *testing.T, what string, err error, code wire.Code) {
	t.Helper()
	if we, ok := errors.AsType[*wire.Error](err); !ok || we.Code != code {
		t.Errorf("%s: error %v, want code %d", what, err, code)
	}
}

// customerGets polls as the customer until a message with text arrives,
// and returns it.
func (c *cluster) customerGets(ctx context.Context, ch *haChat, text string) pushed {
	c.t.Helper()
	for ctx.Err() == nil {
		if err := c.poll(ch); err == nil {
			for _, m := range ch.seen {
				if m.Text == text {
					return m
				}
			}
		}
		<-time.After(50 * time.Millisecond) // a client's poll pace
	}
	c.t.Fatalf("the customer never received %q; seen %+v", text, ch.seen)
	return pushed{}
}

// TestESPRelayedEndToEnd runs the real binary: the queue's greeting and
// waiting notice reach the customer; a workflow (a routing client of the
// interaction server) sends ESP requests naming a chat's interaction;
// the interaction server relays them to the chat server that holds the
// chat, which speaks into it as the system and as a bot it added, and
// answers with its transcript. Its chat server is killed; once the chat is
// restored on the other one, the same requests reach it there, and the
// workflow stops the chat. Requests for an unknown interaction, from a
// client that is not the interaction server, or from a client type that may
// not send them are refused with their codes.
func TestESPRelayedEndToEnd(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			if db == "postgres" {
				db = storetest.PostgresDSN(t)
			}
			// The queue greets every chat and tells it every second that it waits.
			runESP(t, startESPClusterOn(t, db, `greeting: "Welcome to parley.", waiting-notice: "Thanks for waiting.", waiting-notice-interval: 1`, ""))
		})
	}
}

func runESP(t *testing.T, c *cluster) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	flow := c.workflow(ctx)
	ch := c.newChat()
	c.customerGets(ctx, ch, "Welcome to parley.")
	c.customerGets(ctx, ch, "Thanks for waiting.")

	r := mustESP(ctx, t, flow, ch.id, "Message", map[string]string{"MessageText": "An agent will be with you shortly."})
	if r.AppName != ch.alias || r.Parameters["ChatServerApplication"] != ch.alias || r.Parameters["UserId"] == "" {
		t.Fatalf("Message answered %+v, want it from %s with the system party's UserId", r, ch.alias)
	}
	if m := c.customerGets(ctx, ch, "An agent will be with you shortly."); m.From.Type != "External" {
		t.Errorf("the greeting comes from a %q party, want External", m.From.Type)
	}
	bot := mustESP(ctx, t, flow, ch.id, "Join", map[string]string{"Nickname": "HelpBot"}).Parameters["UserId"]
	mustESP(ctx, t, flow, ch.id, "Message", map[string]string{"UserId": bot, "MessageText": "I am the bot."})
	mustESP(ctx, t, flow, ch.id, "Notice", map[string]string{"NoticeType": "USER_CUSTOM", "NoticeText": "custom-1"})
	c.customerGets(ctx, ch, "I am the bot.")
	tr := mustESP(ctx, t, flow, ch.id, "Transcript", nil)
	if !hasESPMessage(tr, "HelpBot", "I am the bot.") || !hasESPMessage(tr, "system", "An agent will be with you shortly.") {
		t.Errorf("Transcript answered %+v, want the system's and the bot's messages", tr.Messages)
	}

	_, err := esp(ctx, flow, "no-such-interaction", "Message", map[string]string{"MessageText": "x"})
	wantCode(t, "ESP for an unknown interaction", err, wire.CodeNoSuchInteraction)
	_, err = esp(ctx, flow, ch.id, "Dance", nil)
	wantCode(t, "an unknown ESP method", err, wire.CodeBadRequest)
	_, err = esp(ctx, flow, ch.id, "Message", map[string]string{"UserId": ch.user, "MessageText": "as the customer"})
	wantCode(t, "ESP speaking as the customer", err, wire.CodeNotAllowed)
	_, err = c.web().tryDial(ctx, c.url(ch.alias, "ws", "/wire/esp"), ch.alias, nil)
	wantCode(t, "the web API on a chat server's ESP side", err, wire.CodeRoleRefused)
	agent := c.web().dial(ctx, t, c.url("ixn-1", "ws", "/wire/ixn"), "ixn-1", nil)
	request(ctx, t, agent, wire.RequestRegisterClient, map[string]string{"clientName": "gms-1/alice", "clientType": "agent"}, nil)
	_, err = esp(ctx, agent, ch.id, "Message", map[string]string{"MessageText": "x"})
	wantCode(t, "ESP from an agent", err, wire.CodeNotAllowed)

	victim := ch.alias
	c.signal(victim, syscall.SIGKILL)
	if err := c.resume(ctx, ch, time.Now(), victim); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ESP reaches the chat on "+ch.alias, func() bool {
		r, err := esp(ctx, flow, ch.id, "Message", map[string]string{"MessageText": "Still with us after the failover."})
		return err == nil && r.AppName == ch.alias
	})
	c.customerGets(ctx, ch, "Still with us after the failover.")
	mustESP(ctx, t, flow, ch.id, "Leave", map[string]string{"UserId": bot})
	mustESP(ctx, t, flow, ch.id, "Close", nil)
	for ctx.Err() == nil && !ch.ended {
		c.poll(ch)
	}
	if !ch.ended {
		t.Fatal("the customer never saw the chat end after the workflow closed it")
	}
}

func hasESPMessage(r espReply, nick, text string) bool {
	return slices.ContainsFunc(r.Messages, func(m espMessage) bool {
		return m.Type == "Message" && m.Text == text && m.From.Nickname == nick
	})
}

// deskPage is an agent desktop page on the web API's /desktop/ws.
type deskPage struct {
	conn   *wire.Conn
	mu     sync.Mutex
	events []wire.Message
}

func (c *cluster) deskPage(ctx context.Context) *deskPage {
	c.t.Helper()
	conn, err := wire.Dial(ctx, c.url("gms-1", "ws", "/desktop/ws"), wire.Options{})
	if err != nil {
		c.t.Fatal(err)
	}
	d := &deskPage{conn: conn}
	go conn.Serve(ctx, wire.HandlerFunc(func(_ context.Context, _ *wire.Conn, m wire.Message) {
		d.mu.Lock()
		d.events = append(d.events, m)
		d.mu.Unlock()
	}))
	c.t.Cleanup(func() { conn.Close(); <-conn.Done() })
	return d
}

// seen reports whether the page was sent an event named name whose body
// contains every string of want.
func (d *deskPage) seen(name string, want ...string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.ContainsFunc(d.events, func(m wire.Message) bool {
		return m.Name == name && !slices.ContainsFunc(want, func(s string) bool { return !strings.Contains(string(m.Body), s) })
	})
}

// TestAgentRestoresSilentChatEndToEnd runs the real binary with
// session-restore-extend-by = agent: a customer and an agent on the agent
// desktop (through the web API's bridge) chat; the customer goes silent and
// its chat server is killed. Nobody asks for the chat but the agent's
// desktop: another chat server restores it for the agent at once, the agent
// speaks in it, and the customer, coming back, finds the agent's message
// and the chat on the new chat server.
func TestAgentRestoresSilentChatEndToEnd(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			if db == "postgres" {
				db = storetest.PostgresDSN(t)
			}
			runAgentRestore(t, startESPClusterOn(t, db, "", "session-restore-extend-by: agent, session-restore-push-send: true, flex-push-on-join: true"))
		})
	}
}

func runAgentRestore(t *testing.T, c *cluster) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	d := c.deskPage(ctx)
	request(ctx, t, d.conn, wire.RequestAgentLogin, map[string]string{"agentId": "alice", "password": "alice"}, nil)
	ch := c.newChat()
	eventually(t, "the invitation", func() bool { return d.seen(wire.EventInvite, ch.id) })
	request(ctx, t, d.conn, wire.RequestAccept, map[string]string{"interactionId": ch.id}, nil)
	eventually(t, "the agent in the chat", func() bool { return d.seen(wire.EventSessionInfo, ch.id) })
	if err := c.say(ch, "hello, anyone?"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the agent sees the customer", func() bool { return d.seen(wire.EventSessionInfo, "hello, anyone?") })

	victim := ch.alias
	c.signal(victim, syscall.SIGKILL)
	eventually(t, "the chat restored for the agent", func() bool { return d.seen(wire.EventLocationChanged, ch.id) })
	c.waitLog("chat restored for its agent", ch.id) // not by the orphan sweeper, a minute later
	if c.logged("session restored", "from="+victim, ch.id) != 1 {
		t.Error("the chat was restored more than once")
	}
	request(ctx, t, d.conn, wire.RequestMessage, map[string]string{"interactionId": ch.id, "text": "I am still here"}, nil)

	c.customerGets(ctx, ch, "I am still here")
	if ch.alias == victim {
		t.Errorf("the customer's chat is still on %s", victim)
	}
	if err := c.say(ch, "great, thanks"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the agent sees the customer after the restore", func() bool { return d.seen(wire.EventSessionInfo, "great, thanks") })
}

// TestPurgeThroughIxnEndToEnd runs the real binary with
// session-restore-do-purge. A chat's server is stopped (not killed) and the chat restored on
// the other: the new owner sends the purge through the interaction server,
// and the old one, once running again, drops its copy, and the chat goes on.
func TestPurgeThroughIxnEndToEnd(t *testing.T) {
	c := startESPCluster(t, "", "session-restore-do-purge: true")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	ch := c.newChat()
	old := moveQuietly(ctx, t, c, ch)
	c.waitLog("purge of the previous owner's copy sent through the interaction server", "app="+ch.alias, ch.id, "err=<nil>")
	c.waitLog("session purged: restored on another chat server", "app="+old, ch.id)
	if err := c.say(ch, "after the purge"); err != nil || ch.alias == old {
		t.Fatalf("the customer after the purge: %v, on %s", err, ch.alias)
	}
}

// TestSubmittedByNameStopsEveryCopyEndToEnd runs the real binary with one
// ixn-submittedby-name for both chat servers (so the interaction server
// admits both under it) and no purge. A chat is restored on the other chat
// server while its owner lives and keeps its stale copy; when the workflow
// stops the interaction, both chat servers close their copy and the
// customer sees the chat end.
func TestSubmittedByNameStopsEveryCopyEndToEnd(t *testing.T) {
	c := startESPCluster(t, "", "ixn-submittedby-name: chat-pool")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	flow := c.workflow(ctx)
	ch := c.newChat()
	old := moveQuietly(ctx, t, c, ch)
	request(ctx, t, flow, wire.RequestStopProcessing, map[string]string{"interactionId": ch.id, "reason": "workflow done"}, nil)
	for _, app := range []string{old, ch.alias} {
		c.waitLog("interaction stopped by the interaction server; closing the chat", "app="+app, ch.id)
	}
	for ctx.Err() == nil && !ch.ended {
		c.poll(ch)
	}
	if !ch.ended {
		t.Fatal("the customer never saw the chat end after the workflow stopped it")
	}
}

// waitLog waits for a line of up's output that holds msg and every one of
// attrs.
func (c *cluster) waitLog(msg string, attrs ...string) {
	c.t.Helper()
	eventually(c.t, fmt.Sprintf("%q %v in the log", msg, attrs), func() bool { return c.logged(msg, attrs...) > 0 })
}

// logged counts the lines of up's output that hold msg and every one of
// attrs.
func (c *cluster) logged(msg string, attrs ...string) int {
	n := 0
	for line := range strings.Lines(c.out.String()) {
		if strings.Contains(line, `msg="`+msg+`"`) && !slices.ContainsFunc(attrs, func(a string) bool { return !strings.Contains(line, a) }) {
			n++
		}
	}
	return n
}

// moveQuietly restores ch on the other chat server while its owner lives
// and holds it, as a web API that could not reach the owner does (the test
// plays gms-1, naming no unreachable server, so nothing is deferred to the
// owner), and returns the old owner's name. The old owner is sent nothing:
// its copy stays, unwritten, until something tells it.
func moveQuietly(ctx context.Context, t *testing.T, c *cluster, ch *haChat) string {
	t.Helper()
	old, to := ch.alias, "chat-1"
	if old == to {
		to = "chat-2"
	}
	conn := c.web().dial(ctx, t, c.url(to, "ws", "/wire/flex"), to, nil)
	var st struct{ Alias string }
	request(ctx, t, conn, wire.RequestRestore, map[string]any{"sessionId": ch.id, "userId": ch.user, "secureKey": ch.key}, &st)
	if st.Alias != to {
		t.Fatalf("the restore on %s answered alias %q", to, st.Alias)
	}
	ch.alias = to
	return old
}

// TestCheckConfigExtendByNeeds: check-config refuses
// session-restore-extend-by without the options the seed says it needs,
// in one line naming the file, application and option, and accepts it
// with them.
func TestCheckConfigExtendByNeeds(t *testing.T) {
	for _, tt := range []struct{ settings, want string }{
		{"session-restore-extend-by: agent", `: application "chat-1": [settings] session-restore-extend-by = "agent": needs session-restore-push-send: true and flex-push-on-join: true`},
		{"session-restore-extend-by: both, session-restore-push-send: true", `[settings] session-restore-extend-by = "both": needs`},
		{"session-restore-extend-by: esp, session-restore-push-send: true, flex-push-on-join: true", ""},
	} {
		file := filepath.Join(t.TempDir(), "extend.yaml")
		yaml := "databases:\n  main: {driver: sqlite, dsn: parley.db}\napplications:\n" +
			"  chat-1: {type: chat-server, listen: 127.0.0.1:7021, database: main, options: {settings: {" + tt.settings + "}}}\n"
		if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runMain(t, "check-config", "--config", file)
		switch {
		case tt.want == "" && (code != exitOK || errOut != ""):
			t.Errorf("%s: exit %d, stderr %q", tt.settings, code, errOut)
		case tt.want != "" && (code != exitFailure || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want)):
			t.Errorf("%s: exit %d, stderr %q, want one line with %q", tt.settings, code, errOut, tt.want)
		}
	}
}

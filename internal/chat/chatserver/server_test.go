package chatserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// harness is a chat server on a loopback port with its SQLite stores.
type harness struct {
	t    testing.TB
	name string
	opts config.ChatServerOptions
	stop func() // stops the server; nil once stopped
	life *lifeline
	addr string
	srv  *chatserver.Server
	db   *sqlite.DB // nil when the stores are on PostgreSQL
	ts   transcript.Store
}

func defaultOptions(t testing.TB) config.ChatServerOptions {
	t.Helper()
	d, err := config.Parse("test.yaml", []byte(`
databases: {main: {driver: sqlite, dsn: x.db}}
applications:
  chat-1: {type: chat-server, listen: "127.0.0.1:1", database: main}
`))
	if err != nil {
		t.Fatal(err)
	}
	return *d.Applications["chat-1"].Chat
}

func start(t testing.TB, opts config.ChatServerOptions, wrap func(transcript.Store) transcript.Store) *harness {
	t.Helper()
	return startClock(t, opts, wrap, nil)
}

// startClock starts a chat server whose clock is now (nil: the real clock).
func startClock(t testing.TB, opts config.ChatServerOptions, wrap func(transcript.Store) transcript.Store, now func() time.Time) *harness {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var ts transcript.Store = db.Transcripts()
	if wrap != nil {
		ts = wrap(ts)
	}
	return serve(t, chatserver.Config{Name: "chat-1", Options: opts, Transcripts: ts, Contacts: db.Contacts(), Now: now}, db)
}

// serve runs a chat server with cfg on a loopback port until the test ends.
func serve(t testing.TB, cfg chatserver.Config, db *sqlite.DB) *harness {
	t.Helper()
	return serveOn(t, cfg, db, listen(t))
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// serveOn runs a chat server with cfg on ln until the test ends, kill or
// crash.
func serveOn(t testing.TB, cfg chatserver.Config, db *sqlite.DB, ln net.Listener) *harness {
	t.Helper()
	h := &harness{t: t, name: cfg.Name, opts: cfg.Options, addr: ln.Addr().String(), db: db, ts: cfg.Transcripts,
		life: &lifeline{Listener: ln}}
	if db != nil {
		h.ts = db.Transcripts() // the store itself, not a test's wrapper
	}
	h.life.guard(t, &cfg)
	srv, err := chatserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, h.life) }()
	h.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	t.Cleanup(func() {
		if h.stop != nil {
			h.stop()
		}
	})
	return h
}

// kill stops the server gracefully: from then on it is unreachable.
func (h *harness) kill() {
	h.stop()
	h.stop = nil
}

// crash kills the server as a crash does: from this moment its stores
// refuse every call, its connections are cut without a close handshake and
// its session operations are cancelled rather than drained, so that
// nothing it does afterwards reaches a store or a peer. Only then are its
// goroutines reaped, through a stop that can no longer write anything.
func (h *harness) crash() {
	h.life.cut()
	h.srv.CancelWork()
	h.kill()
}

// peer is a wire connection that records the pushes it receives and
// answers liveness checks with alive.
type peer struct {
	t      testing.TB
	conn   *wire.Conn
	alive  atomic.Bool
	checks atomic.Int32
	mu     sync.Mutex
	pushes []status
}

type status struct {
	SessionID    string                  `json:"sessionId"`
	UserID       string                  `json:"userId"`
	SecureKey    string                  `json:"secureKey"`
	Alias        string                  `json:"alias"`
	ChatEnded    bool                    `json:"chatEnded"`
	NextPosition int                     `json:"nextPosition"`
	Messages     []transcript.APIMessage `json:"messages"`
}

func (h *harness) dial(path string) *peer {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c, err := wire.Dial(ctx, "ws://"+h.addr+path, wire.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	p := &peer{t: h.t, conn: c}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Serve(ctx, wire.HandlerFunc(func(_ context.Context, _ *wire.Conn, m wire.Message) {
			if m.Name == wire.RequestCheckParty {
				p.checks.Add(1)
				c.Reply(m, wire.EventAck, map[string]bool{"connected": p.alive.Load()})
				return
			}
			var st status
			if m.Name == wire.EventSessionInfo && json.Unmarshal(m.Body, &st) == nil {
				p.mu.Lock()
				p.pushes = append(p.pushes, st)
				p.mu.Unlock()
			}
		}))
	}()
	h.t.Cleanup(func() { cancel(); c.Close(); <-done })
	return p
}

func (p *peer) do(name string, body any) (status, error) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var st status
	_, err := p.conn.Request(ctx, name, body, &st)
	return st, err
}

func (p *peer) must(name string, body any) status {
	p.t.Helper()
	st, err := p.do(name, body)
	if err != nil {
		p.t.Fatalf("%s: %v", name, err)
	}
	return st
}

// waitPush waits for a pushed event matching ok and returns it.
func (p *peer) waitPush(what string, ok func(transcript.APIMessage, status) bool) transcript.APIMessage {
	p.t.Helper()
	var found *transcript.APIMessage
	eventually(p.t, what, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, st := range p.pushes {
			for _, m := range st.Messages {
				if ok(m, st) {
					found = &m
					return true
				}
			}
		}
		return false
	})
	return *found
}

func (p *peer) pushed() []transcript.APIMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []transcript.APIMessage
	for _, st := range p.pushes {
		out = append(out, st.Messages...)
	}
	return out
}

// eventually fails the test unless cond holds within 10 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	settle.Eventually(t, 10*time.Second, what, cond)
}

func wireCode(err error) wire.Code {
	var we *wire.Error
	if errors.As(err, &we) {
		return we.Code
	}
	return -1
}

type client struct {
	*peer
	sessionID, userID, key string
}

func (c client) ref(extra map[string]any) map[string]any {
	m := map[string]any{"sessionId": c.sessionID, "userId": c.userID, "secureKey": c.key}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func (h *harness) login(p *peer) client {
	h.t.Helper()
	st := p.must(wire.RequestLogin, map[string]any{
		"firstName": "Ann", "lastName": "Lee", "emailAddress": "ann@example.com", "subject": "Order 42",
		"userData": map[string]string{"Order": "42"},
	})
	if st.SessionID == "" || st.UserID == "" || st.SecureKey == "" || st.Alias != h.name {
		h.t.Fatalf("login reply = %+v", st)
	}
	ms := st.Messages
	if h.opts.Settings.TranscriptAutoSave == 2 && len(ms) == 2 && ms[1].Type == transcript.Notice && ms[1].Text == "save" {
		ms = ms[:1] // the client is told the creation was saved
	}
	if len(ms) != 1 || ms[0].Type != transcript.ParticipantJoined || ms[0].Index != 1 {
		h.t.Fatalf("login messages = %+v", st.Messages)
	}
	return client{peer: p, sessionID: st.SessionID, userID: st.UserID, key: st.SecureKey}
}

func (h *harness) joinAgent(p *peer, sessionID string, extra map[string]any) status {
	h.t.Helper()
	body := map[string]any{"sessionId": sessionID, "nickname": "Bob", "personId": "bob01"}
	for k, v := range extra {
		body[k] = v
	}
	return p.must(wire.RequestJoin, body)
}

func TestChatEndToEnd(t *testing.T) {
	h := start(t, defaultOptions(t), nil)
	c := h.login(h.dial(chatserver.FlexPath))
	c.must(wire.RequestSubscribe, c.ref(map[string]any{"transcriptPosition": 2}))

	agent := h.dial(chatserver.BasicPath)
	joined := h.joinAgent(agent, c.sessionID, nil)
	if len(joined.Messages) != 2 || joined.Messages[1].From.Type != transcript.Agent {
		t.Fatalf("agent join reply = %+v", joined.Messages)
	}
	a := map[string]any{"sessionId": c.sessionID, "userId": joined.UserID}

	c.waitPush("agent joined", func(m transcript.APIMessage, _ status) bool {
		return m.Type == transcript.ParticipantJoined && m.From.Nickname == "Bob"
	})
	agent.must(wire.RequestMessage, with(a, "text", "Hello Ann"))
	c.waitPush("agent message", func(m transcript.APIMessage, _ status) bool { return m.Text == "Hello Ann" })
	c.must(wire.RequestMessage, c.ref(map[string]any{"text": "Hi Bob"}))
	agent.waitPush("client message", func(m transcript.APIMessage, _ status) bool {
		return m.Text == "Hi Bob" && m.From.Type == transcript.Client
	})
	agent.must(wire.RequestMessage, with(a, "text", "checking with my supervisor", "visibility", "INT"))
	agent.must(wire.RequestNotify, with(a, "noticeType", "TypingStarted"))

	// Refresh from the start: everything the client may see, never the INT message.
	st := c.must(wire.RequestRefresh, c.ref(map[string]any{"transcriptPosition": 1}))
	var texts []string
	for _, m := range st.Messages {
		if m.Visibility != transcript.VisAll {
			t.Errorf("client received %s event %d", m.Visibility, m.Index)
		}
		texts = append(texts, m.Text)
	}
	if got := strings.Join(texts, "|"); !strings.Contains(got, "Hello Ann|Hi Bob") || strings.Contains(got, "supervisor") {
		t.Errorf("client transcript texts = %q", got)
	}
	if st.NextPosition != 7 {
		t.Errorf("nextPosition = %d, want 7", st.NextPosition)
	}
	if again := c.must(wire.RequestRefresh, c.ref(map[string]any{"transcriptPosition": st.NextPosition})); len(again.Messages) != 0 {
		t.Errorf("second refresh repeated %d events", len(again.Messages))
	}

	end := agent.must(wire.RequestReleaseParty, with(a, "afterAction", "CloseIfNoAgents"))
	if !end.ChatEnded {
		t.Error("release with CloseIfNoAgents did not end the chat")
	}
	c.waitPush("chat ended", func(m transcript.APIMessage, s status) bool { return s.ChatEnded })

	in := waitInteraction(t, h, c.sessionID)
	if in.Subject != "Order 42" || in.MediaType != "chat" || len(in.Parties) != 2 {
		t.Errorf("interaction = %+v", in)
	}
	for _, want := range []string{`<chatTranscript`, `sessionId="` + c.sessionID + `"`, `<msgText>Hi Bob</msgText>`, `visibility="INT"`, `<partyLeft`} {
		if !strings.Contains(in.TranscriptXML, want) {
			t.Errorf("final transcript lacks %s:\n%s", want, in.TranscriptXML)
		}
	}
	if strings.Contains(in.TranscriptXML, "TypingStarted") || strings.Contains(in.TranscriptXML, "TYPING") {
		t.Error("typing notice stored although transcript-save-notices excludes it")
	}
	eventually(t, "intermediate transcript deleted", func() bool {
		_, err := h.ts.Load(context.Background(), c.sessionID)
		return errors.Is(err, transcript.ErrNotFound)
	})
	k := h.srv.KPI()
	if k["session_created"] != 1 || k["session_closed"] != 1 || k["sessions_current"] != 0 || k["messages_received"] != 1 {
		t.Errorf("kpi = %v", k)
	}
	checkHTTP(t, h.addr)
}

func waitInteraction(t testing.TB, h *harness, id string) contact.Interaction {
	t.Helper()
	var in contact.Interaction
	eventually(t, "final transcript in the contact store", func() bool {
		var err error
		in, err = h.db.Contacts().Interaction(context.Background(), id)
		return err == nil
	})
	return in
}

func checkHTTP(t testing.TB, addr string) {
	t.Helper()
	for path, want := range map[string]string{"/healthz": "ok", "/kpi": `"session_created":1`, "/metrics": "parley_chat_session_created 1"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s = %d %q, want %q", path, resp.StatusCode, body, want)
		}
	}
}

func with(base map[string]any, kv ...string) map[string]any {
	m := map[string]any{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestBadSecureKeyRemovesClient(t *testing.T) {
	h := start(t, defaultOptions(t), nil)
	c := h.login(h.dial(chatserver.FlexPath))
	agent := h.dial(chatserver.BasicPath)
	h.joinAgent(agent, c.sessionID, nil)

	_, err := c.do(wire.RequestRefresh, map[string]any{"sessionId": c.sessionID, "userId": c.userID, "secureKey": "guess", "transcriptPosition": 1})
	if wireCode(err) != wire.CodeBadSecureKey {
		t.Fatalf("wrong key: err = %v, want code %d", err, wire.CodeBadSecureKey)
	}
	agent.waitPush("client removed with reason 6", func(m transcript.APIMessage, _ status) bool {
		return m.Type == transcript.ParticipantLeft && m.EventAttributes.System["quit-reason-code"] == "6"
	})
	if _, err := c.do(wire.RequestMessage, c.ref(map[string]any{"text": "still here?"})); wireCode(err) != wire.CodeLoggedOut {
		t.Errorf("request of a removed client: err = %v, want code %d", err, wire.CodeLoggedOut)
	}
}

func TestRequestErrors(t *testing.T) {
	h := start(t, defaultOptions(t), nil)
	flex := h.dial(chatserver.FlexPath)
	c := h.login(flex)
	agent := h.dial(chatserver.BasicPath)
	joined := h.joinAgent(agent, c.sessionID, nil)
	other := h.dial(chatserver.BasicPath)

	tests := []struct {
		name string
		p    *peer
		req  string
		body any
		want wire.Code
	}{
		{"unknown session", flex, wire.RequestRefresh, map[string]any{"sessionId": "NOPE", "userId": "x", "secureKey": "y"}, wire.CodeNoSuchSession},
		{"unknown user", flex, wire.RequestRefresh, map[string]any{"sessionId": c.sessionID, "userId": "NOPE", "secureKey": "y"}, wire.CodeNoSuchUser},
		{"agent id on the customer side", flex, wire.RequestRefresh, map[string]any{"sessionId": c.sessionID, "userId": joined.UserID, "secureKey": "y"}, wire.CodeNoSuchUser},
		{"agent party from another connection", other, wire.RequestMessage, map[string]any{"sessionId": c.sessionID, "userId": joined.UserID, "text": "x"}, wire.CodeNoSuchUser},
		{"unknown field", flex, wire.RequestMessage, c.ref(map[string]any{"txet": "x"}), wire.CodeBadRequest},
		{"empty message", flex, wire.RequestMessage, c.ref(map[string]any{"text": ""}), wire.CodeBadRequest},
		{"client INT message", flex, wire.RequestMessage, c.ref(map[string]any{"text": "x", "visibility": "INT"}), wire.CodeNotAllowed},
		{"unknown notice", flex, wire.RequestNotify, c.ref(map[string]any{"noticeType": "Dance"}), wire.CodeBadRequest},
		{"agent request on the customer side", flex, wire.RequestJoin, map[string]any{"sessionId": c.sessionID}, wire.CodeNotAllowed},
		{"login on the agent side", agent, wire.RequestLogin, map[string]any{"nickname": "x"}, wire.CodeNotAllowed},
		{"client joins as agent side", agent, wire.RequestJoin, map[string]any{"sessionId": c.sessionID, "userType": "Client"}, wire.CodeNotAllowed},
		{"login without a name", flex, wire.RequestLogin, map[string]any{"subject": "x"}, wire.CodeBadRequest},
		{"bad after-action", agent, wire.RequestReleaseParty, map[string]any{"sessionId": c.sessionID, "userId": joined.UserID, "afterAction": "Later"}, wire.CodeBadRequest},
		{"client removes the agent", flex, wire.RequestLogout, c.ref(map[string]any{"partyId": joined.UserID}), wire.CodeNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.p.do(tt.req, tt.body); wireCode(err) != tt.want {
				t.Errorf("err = %v, want code %d", err, tt.want)
			}
		})
	}
	// Nothing above disturbed the session.
	c.must(wire.RequestMessage, c.ref(map[string]any{"text": "still fine"}))

	agent.must(wire.RequestReleaseParty, map[string]any{"sessionId": c.sessionID, "userId": joined.UserID, "afterAction": "ForceClose"})
	if _, err := c.do(wire.RequestMessage, c.ref(map[string]any{"text": "late"})); wireCode(err) != wire.CodeSessionClosed {
		t.Errorf("message on a closed session: err = %v, want code %d", err, wire.CodeSessionClosed)
	}
	st := c.must(wire.RequestRefresh, c.ref(map[string]any{"transcriptPosition": 1}))
	if !st.ChatEnded {
		t.Error("refresh after the end does not say chatEnded")
	}
}

func TestDroppedAgentConnectionRemovesAgent(t *testing.T) {
	h := start(t, defaultOptions(t), nil)
	c := h.login(h.dial(chatserver.FlexPath))
	c.must(wire.RequestSubscribe, c.ref(nil))
	agent := h.dial(chatserver.BasicPath)
	h.joinAgent(agent, c.sessionID, nil)
	agent.conn.Close()
	c.waitPush("agent removed with reason 3", func(m transcript.APIMessage, _ status) bool {
		return m.Type == transcript.ParticipantLeft && m.From.Type == transcript.Agent && m.EventAttributes.System["quit-reason-code"] == "3"
	})
	if st := c.must(wire.RequestRefresh, c.ref(nil)); st.ChatEnded {
		t.Error("the session ended although the client is still in it")
	}
}

func TestStaleEpochDropsSession(t *testing.T) {
	h := start(t, defaultOptions(t), nil)
	c := h.login(h.dial(chatserver.FlexPath))
	if _, err := h.ts.Claim(context.Background(), c.sessionID, "chat-2", "", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.do(wire.RequestMessage, c.ref(map[string]any{"text": "hello?"})); wireCode(err) != wire.CodeStaleOwner {
		t.Fatalf("append after a takeover: err = %v, want code %d", err, wire.CodeStaleOwner)
	}
	if _, err := c.do(wire.RequestRefresh, c.ref(nil)); wireCode(err) != wire.CodeStaleOwner {
		t.Errorf("the fenced-off server answered %v, want code %d", err, wire.CodeStaleOwner)
	}
	if k := h.srv.KPI(); k["session_fenced"] != 1 || k["transcript_save_failed"] != 0 || k["sessions_current"] != 0 {
		t.Errorf("kpi = %v: a fence is not a save failure", k)
	}
	snap, err := h.ts.Load(context.Background(), c.sessionID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range snap.Events {
		if e.Text == "hello?" {
			t.Error("a write with a stale epoch reached the store")
		}
	}
}

func TestSessionLimit(t *testing.T) {
	opts := defaultOptions(t)
	opts.Settings.LimitForSessions = 1
	h := start(t, opts, nil)
	flex := h.dial(chatserver.FlexPath)
	h.login(flex)
	if _, err := flex.do(wire.RequestLogin, map[string]any{"nickname": "Second"}); wireCode(err) != wire.CodeUnavailable {
		t.Errorf("login over limit-for-sessions: err = %v, want code %d", err, wire.CodeUnavailable)
	}
}

func TestDisableStopsNewChatsOnly(t *testing.T) {
	h := start(t, defaultOptions(t), nil)
	flex := h.dial(chatserver.FlexPath)
	c := h.login(flex)
	resp, err := http.Post("http://"+h.addr+"/admin/disable", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var st chatserver.Status
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if st.Accepting || !st.Disabled || st.SessionsCurrent != 1 {
		t.Errorf("status after disable = %+v", st)
	}
	if _, err := flex.do(wire.RequestLogin, map[string]any{"nickname": "New"}); wireCode(err) != wire.CodeUnavailable {
		t.Errorf("login on a disabled server: err = %v, want code %d", err, wire.CodeUnavailable)
	}
	c.must(wire.RequestMessage, c.ref(map[string]any{"text": "current chats go on"}))
	if _, err := http.Post("http://"+h.addr+"/admin/enable", "", nil); err != nil {
		t.Fatal(err)
	}
	h.login(flex)
}

// kpiOf reads GET /kpi.
func kpiOf(t *testing.T, h *harness) map[string]int64 {
	t.Helper()
	resp, err := http.Get("http://" + h.addr + "/kpi")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var k map[string]int64
	if err := json.NewDecoder(resp.Body).Decode(&k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDrainAfterDisable(t *testing.T) {
	h := start(t, defaultOptions(t), nil)
	flex := h.dial(chatserver.FlexPath)
	type chat struct {
		c       client
		agent   *peer
		agentID string
	}
	var chats []chat
	for range 2 {
		c := h.login(flex)
		agent := h.dial(chatserver.BasicPath)
		chats = append(chats, chat{c, agent, h.joinAgent(agent, c.sessionID, nil).UserID})
	}
	resp, err := http.Post("http://"+h.addr+"/admin/disable", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for i, ch := range chats {
		if _, err := flex.do(wire.RequestLogin, map[string]any{"nickname": "New"}); wireCode(err) != wire.CodeUnavailable {
			t.Fatalf("login while draining: err = %v, want code %d", err, wire.CodeUnavailable)
		}
		ch.c.must(wire.RequestMessage, ch.c.ref(map[string]any{"text": "current chats go on"}))
		if k := kpiOf(t, h); k["session_created"]-k["session_closed"] != int64(len(chats)-i) {
			t.Fatalf("kpi with %d chats left = %v", len(chats)-i, k)
		}
		ch.agent.must(wire.RequestReleaseParty, map[string]any{"sessionId": ch.c.sessionID, "userId": ch.agentID, "afterAction": "ForceClose"})
	}
	eventually(t, "the drain to end", func() bool {
		k := kpiOf(t, h)
		return k["session_created"] == 2 && k["session_closed"] == 2 && k["sessions_current"] == 0
	})
	var st chatserver.Status
	resp, err = http.Get("http://" + h.addr + "/status")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if st.Accepting || st.SessionsCurrent != 0 {
		t.Errorf("status after the drain = %+v", st)
	}
}

// TestAutoSave2NotifiesEveryParty: with transcript-auto-save = 2 the agent
// and the customer are both told of each save (issue 19, item 7); the
// notice is never stored.
func TestAutoSave2NotifiesEveryParty(t *testing.T) {
	opts := defaultOptions(t)
	opts.Settings.TranscriptAutoSave = 2
	h := start(t, opts, nil)
	c := h.login(h.dial(chatserver.FlexPath))
	c.must(wire.RequestSubscribe, c.ref(nil))
	agent := h.dial(chatserver.BasicPath)
	h.joinAgent(agent, c.sessionID, nil)
	c.must(wire.RequestMessage, c.ref(map[string]any{"text": "saved?"}))
	agent.waitPush("a save notice", func(m transcript.APIMessage, _ status) bool {
		return m.Type == transcript.Notice && m.Text == "save" && m.Visibility == transcript.VisAll
	})
	c.waitPush("a save notice to the customer", func(m transcript.APIMessage, _ status) bool {
		return m.Type == transcript.Notice && m.Text == "save"
	})
	if st := c.must(wire.RequestRefresh, c.ref(map[string]any{"transcriptPosition": 1})); len(st.Messages) == 0 {
		t.Fatal("no transcript")
	}
	snap, err := h.ts.Load(context.Background(), c.sessionID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range snap.Events {
		if e.NoticeType == "save" {
			t.Error("a save notice was stored")
		}
	}
}

// lostAck commits an append but reports a failure once, as a timeout while
// its group commit goes through does.
type lostAck struct {
	transcript.Store
	once  sync.Once
	armed atomic.Bool
}

func (l *lostAck) Append(ctx context.Context, id string, epoch int64, events []transcript.Event) error {
	err := l.Store.Append(ctx, id, epoch, events)
	lost := false
	if l.armed.Load() {
		l.once.Do(func() { lost = true })
	}
	if err == nil && lost {
		return context.DeadlineExceeded
	}
	return err
}

func TestAppendRetryAfterLostAck(t *testing.T) {
	opts := defaultOptions(t)
	opts.Settings.TranscriptResendDelay = time.Millisecond
	la := &lostAck{}
	h := start(t, opts, func(s transcript.Store) transcript.Store { la.Store = s; return la })
	c := h.login(h.dial(chatserver.FlexPath))
	la.armed.Store(true)
	c.must(wire.RequestMessage, c.ref(map[string]any{"text": "committed once"}))
	c.must(wire.RequestMessage, c.ref(map[string]any{"text": "and the next"}))
	snap, err := h.ts.Load(context.Background(), c.sessionID)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range snap.Events {
		texts = append(texts, e.Text)
	}
	if got := strings.Join(texts, "|"); got != "|committed once|and the next" {
		t.Errorf("stored texts = %q", got)
	}
}

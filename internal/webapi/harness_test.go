package webapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/webapi"
	"github.com/parley-chat/parley/internal/wire"
)

// chatServer is an in-process chat server on a loopback port.
type chatServer struct {
	name, addr string
	db         *sqlite.DB // its stores, when startChat made them
	sec        *secure    // nil: it serves plain text and admits everyone
}

// endpoint is how a web API reaches c.
func (c chatServer) endpoint() service.Endpoint {
	return service.Endpoint{Name: c.name, Addr: c.addr, TLS: c.sec != nil}
}

// startChat runs a chat server called name with SQLite stores until the
// test ends; edit changes its options.
func startChat(t testing.TB, name string, edit func(*config.ChatServerOptions)) chatServer {
	t.Helper()
	return startSecureChat(t, nil, name, edit)
}

// startSecureChat is startChat serving TLS with a certificate of sec and
// admitting only the web API gms-1 (as web API and agent bridge) when sec
// is not nil.
func startSecureChat(t testing.TB, sec *secure, name string, edit func(*config.ChatServerOptions)) chatServer {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	opts := config.DefaultChatServerOptions()
	if edit != nil {
		edit(&opts)
	}
	var trust *service.Trust
	if sec != nil {
		trust = sec.trust(name, map[string][]auth.Role{"gms-1": {auth.RoleWebAPI, auth.RoleAgent}})
	}
	srv, err := chatserver.New(chatserver.Config{Name: name, Options: opts, Transcripts: db.Transcripts(), Contacts: db.Contacts(),
		Files: db.Files(), Trust: trust})
	if err != nil {
		t.Fatal(err)
	}
	ln := listenTrust(t, trust)
	serve(t, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
	t.Cleanup(func() { db.Close() }) // runs after the server stopped
	return chatServer{name: name, addr: ln.Addr().String(), db: db, sec: sec}
}

// serve runs f until the test ends, then cancels it and checks its error.
func serve(t testing.TB, f func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	return listenTrust(t, nil)
}

// listenTrust listens on a loopback port, with TLS when trust has a
// certificate.
func listenTrust(t testing.TB, trust *service.Trust) net.Listener {
	t.Helper()
	ln, err := trust.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// web is an in-process web API and the base URL of its REST API.
type web struct {
	t    testing.TB
	srv  *webapi.Server
	base string // http://addr/genesys/2/chat/customer-support
}

// startWeb runs a web API connected to chats until the test ends, and waits
// until it would pick each of them.
func startWeb(t testing.TB, edit func(*config.WebAPIOptions), chats ...chatServer) *web {
	t.Helper()
	return startSecureWeb(t, nil, edit, chats...)
}

// startSecureWeb is startWeb serving HTTPS and WSS with a certificate of
// sec, and proving itself as gms-1 to the chats, when sec is not nil.
func startSecureWeb(t testing.TB, sec *secure, edit func(*config.WebAPIOptions), chats ...chatServer) *web {
	t.Helper()
	opts := config.DefaultWebAPIOptions()
	opts.Limits.NewChatsPerAddress = 0 // tests request many chats from 127.0.0.1; a test of the limit sets it
	if edit != nil {
		edit(&opts)
	}
	addrs := map[string]service.Endpoint{}
	for _, c := range chats {
		addrs[c.name] = c.endpoint()
	}
	var trust *service.Trust
	scheme := "http"
	if sec != nil {
		trust, scheme = sec.trust("gms-1", nil), "https"
	}
	srv, err := webapi.New(webapi.Config{Name: "gms-1", ChatServers: addrs, Options: opts, Trust: trust})
	if err != nil {
		t.Fatal(err)
	}
	ln := listenTrust(t, trust)
	serve(t, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
	w := &web{t: t, srv: srv, base: scheme + "://" + ln.Addr().String() + "/genesys/2/chat/customer-support"}
	for _, c := range chats {
		eventually(t, c.name+" selectable", func() bool { return srv.Accepting(c.name) })
	}
	return w
}

// envelope is the Chat API v2 reply as a client reads it.
type envelope struct {
	StatusCode   int                     `json:"statusCode"`
	Alias        string                  `json:"alias"`
	ChatEnded    bool                    `json:"chatEnded"`
	ChatID       string                  `json:"chatId"`
	UserID       string                  `json:"userId"`
	SecureKey    string                  `json:"secureKey"`
	NextPosition int                     `json:"nextPosition"`
	Messages     []transcript.APIMessage `json:"messages"`
	UserData     map[string]string       `json:"userData"`
	// IdleTimerExpire is the Genesys widget's countdown end, epoch ms.
	IdleTimerExpire int64 `json:"idleTimerExpire"`
	Errors          []struct {
		Code   int    `json:"code"`
		Advice string `json:"advice"`
	} `json:"errors"`
}

// code returns the first error code, or 0.
func (e envelope) code() int {
	if len(e.Errors) == 0 {
		return 0
	}
	return e.Errors[0].Code
}

// post sends a form-encoded POST to base+path and decodes the envelope.
func (w *web) post(path string, form url.Values) (int, envelope) {
	w.t.Helper()
	return do(w.t, http.MethodPost, w.base+path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

func do(t testing.TB, method, u, ctype string, body io.Reader) (int, envelope) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env envelope
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatalf("%s %s: HTTP %d, body not an envelope: %v", method, u, resp.StatusCode, err)
	}
	return resp.StatusCode, env
}

// customer is a chat as its client knows it.
type customer struct {
	w                          *web
	chatID, userID, key, alias string
}

// requestChat starts a chat and checks the reply.
func (w *web) requestChat(extra url.Values) customer {
	w.t.Helper()
	form := url.Values{"firstName": {"Ann"}, "lastName": {"Lee"}, "subject": {"Order 42"},
		"emailAddress": {"ann@example.com"}, "userData[Order]": {"42"}}
	for k, v := range extra {
		form[k] = v
	}
	_, env := w.post("", form)
	if env.StatusCode != 0 || env.ChatID == "" || env.UserID == "" || env.SecureKey == "" || env.Alias == "" {
		w.t.Fatalf("request chat = %+v", env)
	}
	if len(env.Messages) == 0 || env.Messages[0].Type != transcript.ParticipantJoined || env.Messages[0].Index != 1 {
		w.t.Fatalf("request chat messages = %+v", env.Messages)
	}
	return customer{w: w, chatID: env.ChatID, userID: env.UserID, key: env.SecureKey, alias: env.Alias}
}

// on returns the same chat as seen through another web API.
func (c customer) on(w *web) customer { c.w = w; return c }

// call posts operation op of the chat with the party fields and extra.
func (c customer) call(op string, kv ...string) envelope {
	c.w.t.Helper()
	form := url.Values{"userId": {c.userID}, "secureKey": {c.key}, "alias": {c.alias}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	_, env := c.w.post("/"+c.chatID+"/"+op, form)
	return env
}

// must is call that fails the test unless statusCode is 0.
func (c customer) must(op string, kv ...string) envelope {
	c.w.t.Helper()
	env := c.call(op, kv...)
	if env.StatusCode != 0 {
		c.w.t.Fatalf("%s: %+v", op, env)
	}
	return env
}

// agent is an agent desktop joined to a chat over the basic side.
type agent struct {
	t         testing.TB
	conn      *wire.Conn
	sessionID string
	userID    string
	key       string // the party's secure key, for a rejoin
	mu        sync.Mutex
	seen      []transcript.APIMessage
	seenAt    []time.Time // when each of seen was pushed
}

// joinAgent joins an agent to the chat on the chat server at addr.
func joinAgent(t testing.TB, addr, sessionID string) *agent {
	t.Helper()
	return joinAgentTo(t, chatServer{addr: addr}, sessionID)
}

// joinAgentTo joins an agent to the chat on cs; when cs is secure, over
// WSS as the desktop bridge of gms-1 does, with a grant for the chat.
func joinAgentTo(t testing.TB, cs chatServer, sessionID string) *agent {
	t.Helper()
	var trust *service.Trust
	if cs.sec != nil {
		trust = cs.sec.trust("gms-1", nil)
	}
	ep := cs.endpoint()
	c, err := wire.Dial(context.Background(), ep.URL("ws", chatserver.BasicPath), trust.WireOptions(wire.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	a := &agent{t: t, conn: c, sessionID: sessionID}
	serve(t, func(ctx context.Context) error {
		c.Serve(ctx, wire.HandlerFunc(a.record))
		return nil
	})
	join := map[string]any{"sessionId": sessionID, "nickname": "Bob", "personId": "bob01"}
	if cs.sec != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := trust.Handshake(ctx, c, ep); err != nil {
			t.Fatalf("agent handshake with %s: %v", cs.name, err)
		}
		join["grant"] = cs.sec.grant(sessionID, "bob01")
	}
	var st struct {
		UserID    string
		SecureKey string
		Messages  []transcript.APIMessage
	}
	a.request(wire.RequestJoin, join, &st)
	a.userID, a.key = st.UserID, st.SecureKey
	a.add(st.Messages)
	return a
}

// record keeps the events pushed to the agent.
func (a *agent) record(_ context.Context, _ *wire.Conn, m wire.Message) {
	var st struct{ Messages []transcript.APIMessage }
	if m.Name == wire.EventSessionInfo && json.Unmarshal(m.Body, &st) == nil {
		a.add(st.Messages)
	}
}

// add records msgs as pushed now.
func (a *agent) add(msgs []transcript.APIMessage) {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seen = append(a.seen, msgs...)
	for range msgs {
		a.seenAt = append(a.seenAt, now)
	}
}

func (a *agent) request(name string, body map[string]any, reply any) {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := a.conn.Request(ctx, name, body, reply); err != nil {
		a.t.Fatalf("agent %s: %v", name, err)
	}
}

// say sends a message with visibility vis (ALL or INT).
func (a *agent) say(text string, vis transcript.Visibility) {
	a.t.Helper()
	a.request(wire.RequestMessage, map[string]any{"sessionId": a.sessionID, "userId": a.userID, "text": text, "visibility": vis}, nil)
}

// waitFor waits until the agent has been pushed an event matching ok.
func (a *agent) waitFor(what string, ok func(transcript.APIMessage) bool) transcript.APIMessage {
	a.t.Helper()
	var found transcript.APIMessage
	eventually(a.t, what, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, m := range a.seen {
			if ok(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// eventually fails the test unless cond holds within 10 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	settle.Eventually(t, 10*time.Second, what, cond)
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

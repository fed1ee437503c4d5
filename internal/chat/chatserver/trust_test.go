package chatserver_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// The deployment the trust tests play: gms-1 is the web API (customer side
// and desktop bridge), faq-bot an external bot client, and the chat servers
// chat-1, chat-2 each other's peers.
const (
	webAPI = "gms-1"
	bot    = "faq-bot"
)

// skew puts the chat servers' injected clock a day ahead of the real one, so
// that a grant valid by the real clock but not by the server's shows which
// clock the server checks grants with.
const skew = 24 * time.Hour

func skewedNow() time.Time { return time.Now().Add(skew) }

// newKey returns a fresh 32-byte deployment key.
func newKey(t testing.TB) auth.Key {
	t.Helper()
	k, err := auth.NewKey([]byte(auth.NewNonce()[:32]))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newTrust returns the Trust of chat server name in the test deployment,
// whose key is key.
func newTrust(name string, key auth.Key) *service.Trust {
	p := auth.NewPolicy(name)
	p.Allow(webAPI, auth.RoleWebAPI, auth.RoleAgent)
	for _, peer := range []string{"chat-1", "chat-2"} {
		if peer != name {
			p.Allow(peer, auth.RoleChatPeer)
		}
	}
	p.AllowClient(bot, auth.RoleBot)
	return &service.Trust{Name: name, Gate: &auth.Gate{Key: key, Policy: p}, Key: key}
}

// startTrust starts chat-1 with a Trust of key and the skewed clock.
func startTrust(t testing.TB, key auth.Key) *harness {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return serve(t, chatserver.Config{Name: "chat-1", Options: defaultOptions(t), Transcripts: db.Transcripts(),
		Contacts: db.Contacts(), Now: skewedNow, Trust: newTrust("chat-1", key)}, db)
}

// dialAs dials path and proves the connection to be name's, with key.
func (h *harness) dialAs(path, name string, key auth.Key) *peer {
	h.t.Helper()
	p := h.dial(path)
	if err := p.handshake(h.name, name, key); err != nil {
		h.t.Fatalf("handshake as %s on %s: %v", name, path, err)
	}
	return p
}

// handshake runs the opening exchange on p as name with key, to the server
// called server.
func (p *peer) handshake(server, name string, key auth.Key) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return auth.Handshake(ctx, p.conn, auth.Credentials{Name: name, Key: key}, server)
}

// grant signs a grant for agent to join session as partyType with vis,
// valid for DefaultGrantTTL by the server's clock.
func grant(key auth.Key, agent, session, partyType, vis string) string {
	return key.SignGrant(auth.Grant{Agent: agent, Session: session, PartyType: partyType, Visibility: vis,
		Expires: skewedNow().Add(auth.DefaultGrantTTL)})
}

func TestTrustWebAPICreatesChat(t *testing.T) {
	key := newKey(t)
	h := startTrust(t, key)
	if _, err := h.dial(chatserver.FlexPath).do(wire.RequestLogin, map[string]any{"nickname": "Ann"}); wireCode(err) != wire.CodeNotAuthenticated {
		t.Errorf("login before the exchange: err = %v, want code %d", err, wire.CodeNotAuthenticated)
	}
	c := h.login(h.dialAs(chatserver.FlexPath, webAPI, key))
	c.must(wire.RequestMessage, c.ref(map[string]any{"text": "hello"}))
}

func TestTrustAgentJoin(t *testing.T) {
	key := newKey(t)
	other := newKey(t)
	h := startTrust(t, key)
	c := h.login(h.dialAs(chatserver.FlexPath, webAPI, key))
	c.must(wire.RequestSubscribe, c.ref(nil))
	agent := h.dialAs(chatserver.BasicPath, webAPI, key)
	sid := c.sessionID
	join := func(g string, extra ...string) map[string]any {
		body := map[string]any{"sessionId": sid, "nickname": "Bob", "personId": "bob01"}
		if g != "" {
			body["grant"] = g
		}
		return with(body, extra...)
	}
	expired := key.SignGrant(auth.Grant{Agent: "bob01", Session: sid, PartyType: "Agent", Visibility: "ALL",
		Expires: time.Now().Add(time.Hour)}) // valid by the real clock, not by the server's
	refusals := []struct {
		name string
		body map[string]any
		want wire.Code
	}{
		{"no grant", join(""), wire.CodeGrantInvalid},
		{"malformed grant", join("not-a-grant"), wire.CodeGrantInvalid},
		{"another key", join(grant(other, "bob01", sid, "Agent", "ALL")), wire.CodeGrantInvalid},
		{"expired", join(expired), wire.CodeGrantExpired},
		{"another session", join(grant(key, "bob01", "OTHER", "Agent", "ALL")), wire.CodeGrantMismatch},
		{"another agent", join(grant(key, "bob01", sid, "Agent", "ALL"), "personId", "eve02"), wire.CodeGrantMismatch},
		{"INT on an ALL grant", join(grant(key, "bob01", sid, "Agent", "ALL"), "visibility", "INT"), wire.CodeGrantMismatch},
		{"supervisor on an agent grant", join(grant(key, "bob01", sid, "Agent", "ALL"), "userType", "Supervisor"), wire.CodeGrantMismatch},
		{"External from the web API", join("", "userType", "External"), wire.CodeRoleRefused},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			p := h.dialAs(chatserver.BasicPath, webAPI, key)
			if st, err := p.do(wire.RequestJoin, tt.body); wireCode(err) != tt.want || len(st.Messages) != 0 {
				t.Errorf("err = %v, messages = %d; want code %d and nothing", err, len(st.Messages), tt.want)
			}
			if tt.want == wire.CodeRoleRefused {
				closed(t, p)
			}
		})
	}
	for _, m := range c.pushed() {
		if m.Type == transcript.ParticipantJoined && m.From.Type != transcript.Client {
			t.Fatalf("a refused join added %+v", m.From)
		}
	}

	joined := agent.must(wire.RequestJoin, join(grant(key, "bob01", sid, "Agent", "ALL")))
	if joined.UserID == "" || joined.SecureKey == "" || len(joined.Messages) != 2 {
		t.Fatalf("join with a grant = %+v", joined)
	}
	agent.must(wire.RequestMessage, map[string]any{"sessionId": sid, "userId": joined.UserID, "text": "Hello Ann"})
	c.waitPush("the agent's message", func(m transcript.APIMessage, _ status) bool { return m.Text == "Hello Ann" })

	sup := h.dialAs(chatserver.BasicPath, webAPI, key)
	st := sup.must(wire.RequestJoin, map[string]any{"sessionId": sid, "nickname": "Sue", "personId": "sue01",
		"userType": "Supervisor", "visibility": "INT", "grant": grant(key, "sue01", sid, "Supervisor", "INT")})
	if st.UserID == "" || st.SecureKey == "" {
		t.Fatalf("supervisor join = %+v", st)
	}
	agent.waitPush("the supervisor joined", func(m transcript.APIMessage, _ status) bool {
		return m.Type == transcript.ParticipantJoined && m.From.Type == transcript.Supervisor
	})
	for _, m := range c.pushed() {
		if m.From.Type == transcript.Supervisor {
			t.Errorf("the customer saw the monitoring supervisor: %+v", m)
		}
	}
}

func TestTrustBotJoin(t *testing.T) {
	key := newKey(t)
	h := startTrust(t, key)
	c := h.login(h.dialAs(chatserver.FlexPath, webAPI, key))
	b := h.dialAs(chatserver.BasicPath, bot, key.ClientKey(bot))
	if _, err := b.do(wire.RequestJoin, map[string]any{"sessionId": c.sessionID, "nickname": "FAQ", "personId": "bob01",
		"grant": grant(key, "bob01", c.sessionID, "Agent", "ALL")}); wireCode(err) != wire.CodeRoleRefused {
		t.Errorf("bot joins as an agent: err = %v, want code %d", err, wire.CodeRoleRefused)
	}
	closed(t, b)
	b = h.dialAs(chatserver.BasicPath, bot, key.ClientKey(bot))
	st := b.must(wire.RequestJoin, map[string]any{"sessionId": c.sessionID, "nickname": "FAQ", "userType": "External"})
	if st.UserID == "" || st.SecureKey == "" {
		t.Fatalf("bot join = %+v", st)
	}
	b.must(wire.RequestMessage, map[string]any{"sessionId": c.sessionID, "userId": st.UserID, "text": "How can I help?"})

	// The bot proves itself with its own key only: not the deployment key,
	// nor another client's.
	for _, k := range []auth.Key{key, key.ClientKey("other-bot")} {
		notAdmitted(t, h, chatserver.BasicPath, bot, k)
	}
}

// notAdmitted checks that a handshake as name with a key the server does
// not hold for it fails (the client sees the server's proof is wrong) and
// leaves the connection unauthenticated.
func notAdmitted(t *testing.T, h *harness, path, name string, k auth.Key) {
	t.Helper()
	p := h.dial(path)
	if err := p.handshake(h.name, name, k); err == nil {
		t.Fatalf("%s admitted with another key", name)
	}
	if _, err := p.do(wire.RequestJoin, map[string]any{"sessionId": "x", "userType": "External"}); wireCode(err) != wire.CodeNotAuthenticated {
		t.Errorf("request after a failed handshake: err = %v, want code %d", err, wire.CodeNotAuthenticated)
	}
}

// clusterTrust starts chat-1 and chat-2 on one SQLite database, each with
// its Trust of key.
func clusterTrust(t *testing.T, key auth.Key) (a, b *harness) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	lns := []net.Listener{listen(t), listen(t)}
	peers := map[string]service.Endpoint{}
	for i, ln := range lns {
		peers[name(i)] = service.Endpoint{Name: name(i), Addr: ln.Addr().String()}
	}
	hs := make([]*harness, len(lns))
	for i, ln := range lns {
		cfg := chatserver.Config{Name: name(i), Options: defaultOptions(t), Transcripts: db.Transcripts(), Contacts: db.Contacts(),
			Peers: peers, Now: skewedNow, Trust: newTrust(name(i), key)}
		hs[i] = serveOn(t, cfg, db, ln)
	}
	return hs[0], hs[1]
}

func TestTrustRejoinAfterRestore(t *testing.T) {
	key := newKey(t)
	a, b := clusterTrust(t, key)
	c := a.login(a.dialAs(chatserver.FlexPath, webAPI, key))
	agent := a.dialAs(chatserver.BasicPath, webAPI, key)
	joined := agent.must(wire.RequestJoin, map[string]any{"sessionId": c.sessionID, "nickname": "Bob", "personId": "bob01",
		"grant": grant(key, "bob01", c.sessionID, "Agent", "ALL")})
	agent.must(wire.RequestMessage, map[string]any{"sessionId": c.sessionID, "userId": joined.UserID, "text": "before"})
	a.crash()

	moved := client{peer: b.dialAs(chatserver.FlexPath, webAPI, key), sessionID: c.sessionID, userID: c.userID, key: c.key}
	if _, err := moved.do(wire.RequestRestore, moved.ref(map[string]any{"from": "chat-1", "transcriptPosition": 1})); err != nil {
		t.Fatal(err)
	}
	back := b.dialAs(chatserver.BasicPath, webAPI, key)
	rejoin := map[string]any{"sessionId": c.sessionID, "userId": joined.UserID, "transcriptPosition": 1}
	for _, k := range []string{"", "not-the-key", c.key} {
		if st, err := back.do(wire.RequestJoin, with(rejoin, "secureKey", k)); wireCode(err) != wire.CodeBadSecureKey || len(st.Messages) != 0 {
			t.Errorf("rejoin with secureKey %q: err = %v, messages = %d; want code %d and nothing", k, err, len(st.Messages), wire.CodeBadSecureKey)
		}
	}
	st := back.must(wire.RequestJoin, with(rejoin, "secureKey", joined.SecureKey))
	if st.UserID != joined.UserID || len(st.Messages) == 0 {
		t.Fatalf("rejoin = %+v", st)
	}
	back.must(wire.RequestMessage, map[string]any{"sessionId": c.sessionID, "userId": joined.UserID, "text": "after"})
}

func TestTrustRolesOnWirePaths(t *testing.T) {
	key := newKey(t)
	h := startTrust(t, key)
	tests := []struct {
		name, path, as string
		key            auth.Key
		want           wire.Code
	}{
		{"chat peer on flex", chatserver.FlexPath, "chat-2", key, wire.CodeRoleRefused},
		{"chat peer on basic", chatserver.BasicPath, "chat-2", key, wire.CodeRoleRefused},
		{"bot on flex", chatserver.FlexPath, bot, key.ClientKey(bot), wire.CodeRoleRefused},
		{"stranger", chatserver.FlexPath, "mallory", key, wire.CodeAuthFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := h.dial(tt.path)
			if err := p.handshake(h.name, tt.as, tt.key); wireCode(err) != tt.want {
				t.Fatalf("handshake: err = %v, want code %d", err, tt.want)
			}
			closed(t, p)
		})
	}
	notAdmitted(t, h, chatserver.FlexPath, webAPI, newKey(t))
}

// closed fails the test unless the server closes p's connection.
func closed(t *testing.T, p *peer) {
	t.Helper()
	select {
	case <-p.conn.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the refused connection is still open")
	}
}

// get sends an HTTP request to h with the given headers and returns the
// status and body.
func (h *harness) get(method, path string, sign func(*http.Request), header ...string) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(method, "http://"+h.addr+path, http.NoBody)
	if err != nil {
		h.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if sign != nil {
		sign(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestTrustHTTP(t *testing.T) {
	key := newKey(t)
	h := startTrust(t, key)
	admin := []string{"Authorization", "Bearer " + key.AdminToken()}
	asWebAPI := func(r *http.Request) { key.SignRequest(r, webAPI, "chat-1", time.Now()) }
	ctJSON := []string{"Content-Type", "application/json"}

	c := h.login(h.dialAs(chatserver.FlexPath, webAPI, key))
	agent := h.dialAs(chatserver.BasicPath, webAPI, key)
	if _, err := agent.do(wire.RequestJoin, map[string]any{"sessionId": c.sessionID, "personId": "bob01"}); wireCode(err) != wire.CodeGrantInvalid {
		t.Errorf("join without a grant: err = %v", err)
	}

	if code, _ := h.get("GET", "/status", nil); code != http.StatusUnauthorized {
		t.Errorf("unsigned /status = %d, want 401", code)
	}
	if code, body := h.get("GET", "/status", asWebAPI); code != http.StatusOK || !strings.Contains(body, `"accepting":true`) {
		t.Errorf("/status signed by the web API = %d %s", code, body)
	}
	if code, _ := h.get("POST", "/admin/disable", nil, ctJSON...); code != http.StatusUnauthorized {
		t.Errorf("/admin/disable without the admin token = %d, want 401", code)
	}
	if code, _ := h.get("POST", "/admin/disable", asWebAPI, ctJSON...); code != http.StatusForbidden {
		t.Errorf("/admin/disable signed by the web API = %d, want 403", code)
	}
	if code, _ := h.get("POST", "/admin/disable", nil, "Authorization", "Bearer wrong", ctJSON[0], ctJSON[1]); code != http.StatusUnauthorized {
		t.Errorf("/admin/disable with a wrong token = %d, want 401", code)
	}
	if h.srv.Status().Disabled {
		t.Fatal("a refused /admin/disable disabled the server")
	}
	if code, body := h.get("POST", "/admin/disable", nil, append(admin, ctJSON...)...); code != http.StatusOK || !strings.Contains(body, `"disabled":true`) {
		t.Errorf("/admin/disable with the admin token = %d %s", code, body)
	}
	if code, _ := h.get("GET", "/metrics", nil); code != http.StatusUnauthorized {
		t.Errorf("/metrics without the admin token = %d, want 401", code)
	}
	if err := h.dial(chatserver.FlexPath).handshake(h.name, "chat-2", key); wireCode(err) != wire.CodeRoleRefused {
		t.Errorf("chat peer on flex: err = %v", err)
	}
	code, body := h.get("GET", "/metrics", nil, admin...)
	if code != http.StatusOK {
		t.Fatalf("/metrics with the admin token = %d", code)
	}
	// Refused so far: unsigned /status, /admin/disable without a token and
	// /metrics without one (not authenticated), the wrong token (bad
	// proof), the web API on /admin/disable and chat-2 on flex (role).
	for _, want := range []string{
		`parley_auth_refused_total{reason="not-authenticated"} 3`,
		`parley_auth_refused_total{reason="bad-proof"} 1`,
		`parley_auth_refused_total{reason="role"} 2`,
		`parley_auth_refused_total{reason="grant"} 1`, // the join without a grant
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(body, "parley_auth"))
		}
	}
	if strings.Contains(body, key.Encode()) || strings.Contains(body, key.AdminToken()) {
		t.Error("/metrics shows a secret")
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A restore defers to a live owner only after asking its GET /status over
// the authenticated link between chat servers: the signed question is
// admitted, and the owner, which holds the chat, is named.
func TestTrustDeferralToLiveOwner(t *testing.T) {
	key := newKey(t)
	a, b := clusterTrust(t, key)
	c := a.login(a.dialAs(chatserver.FlexPath, webAPI, key))
	other := client{peer: b.dialAs(chatserver.FlexPath, webAPI, key), sessionID: c.sessionID, userID: c.userID, key: c.key}
	st, err := other.do(wire.RequestRestore, other.ref(map[string]any{"from": "chat-3", "transcriptPosition": 1}))
	if err != nil || st.Alias != "chat-1" {
		t.Fatalf("restore on chat-2 while chat-1 holds the chat = %q, %v; want a deferral to chat-1", st.Alias, err)
	}
	c.must(wire.RequestMessage, c.ref(map[string]any{"text": "still on chat-1"}))
}

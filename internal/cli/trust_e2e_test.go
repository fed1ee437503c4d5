package cli

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/wire"
)

// TestTrustEndToEnd runs the real binary with an interaction server, two
// chat servers and a web API, and tries each attack of issue 17 as an
// attacker on the network would: each fails with its documented code (and
// a closed connection where the opening exchange refuses it), while a
// customer's chat through the web API's REST API, answered by agent alice
// who accepted it from the interaction server, goes on before, between and
// after the attacks.
func TestTrustEndToEnd(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			db := "sqlite"
			if backend == "postgres" {
				db = storetest.PostgresDSN(t)
			}
			runTrust(t, startIxnClusterOn(t, db), db)
		})
	}
}

// trustRun is one run of the trust test: the cluster, the legitimate chat
// and what an attacker who read the deployment secret could compute (the
// test needs it to forge proofs and grants that only the key tells apart).
type trustRun struct {
	c      *cluster
	ctx    context.Context
	web    testPeer // the test as gms-1, an admitted web API
	secret []byte   // the deployment secret, as <data-dir>/secret holds it
	ch     *haChat  // the customer's chat, answered by alice
	owner  string   // the chat server that holds it
	other  string   // the other chat server
	said   int      // rounds of the legitimate chat so far
}

func runTrust(t *testing.T, c *cluster, db string) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	r := &trustRun{c: c, ctx: ctx, web: c.web(), secret: readSecret(t, c.dataDir)}
	r.openAliceChat(t)
	r.chat(t)
	for _, attack := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"join before the opening exchange", r.joinUnauthenticated},
		{"strangers, wrong and replayed proofs", r.badProofs},
		{"joins without a valid grant", r.badGrants},
		{"rejoin without the party's key", r.rejoinWithoutKey},
		{"interaction server roles", r.ixnRoles},
		{"flex as a chat server", r.flexAsChatServer},
		{"admin and monitoring over HTTP", r.httpSurfaces},
		{"spoofed FileUploaded", r.spoofedFileUploaded},
	} {
		t.Run(attack.name, attack.run)
		r.chat(t) // the legitimate chat goes on after each attack
	}
	t.Run("refusals counted, secrets never logged", r.countedNotLogged)
	if err := c.catchUp(ctx, r.ch); err != nil {
		t.Fatal(err)
	}
	if err := c.end(ctx, r.ch); err != nil {
		t.Fatal(err)
	}
	contacts := openContacts(t, db, c.dataDir)
	settle.Eventually(t, 10*time.Second, "the final transcript in the contact store", func() bool {
		_, err := contacts.Interaction(context.Background(), r.ch.id)
		return err == nil
	})
	checkTranscripts(t, db, c.dataDir, []*haChat{r.ch})
}

// openAliceChat has a customer request a chat over REST and agent alice,
// logged in to the interaction server through gms-1's bridge connection,
// accept it and join it with the grant the interaction server signed.
func (r *trustRun) openAliceChat(t *testing.T) {
	c := r.c
	events := make(chan wire.Message, 64)
	ixnConn := dialEvents(r.ctx, t, r.web, "ws://"+c.addrs["ixn-1"]+"/wire/ixn", "ixn-1", events)
	request(r.ctx, t, ixnConn, wire.RequestRegisterClient, map[string]any{"clientName": "gms-1/alice", "clientType": "agent"}, nil)
	request(r.ctx, t, ixnConn, wire.RequestAgentLogin, map[string]any{"agentId": "alice", "password": "alice", "place": "p1", "media": map[string]int{"chat": 1}}, nil)
	request(r.ctx, t, ixnConn, wire.RequestAgentAvailable, map[string]any{}, nil)

	r.ch = c.newChat()
	var inv struct {
		InteractionID string            `json:"interactionId"`
		Properties    map[string]string `json:"properties"`
	}
	json.Unmarshal(waitMessage(t, events, wire.EventInvite).Body, &inv)
	if inv.InteractionID != r.ch.id {
		t.Fatalf("invite for %q, want %q", inv.InteractionID, r.ch.id)
	}
	var accepted struct{ Grant string }
	request(r.ctx, t, ixnConn, wire.RequestAccept, map[string]any{"interactionId": r.ch.id}, &accepted)
	r.owner = inv.Properties["ChatServerApplication"]
	r.other = map[string]string{"chat-1": "chat-2", "chat-2": "chat-1"}[r.owner]
	if err := c.join(r.ctx, r.ch, c.addrs[r.owner], map[string]any{"sessionId": r.ch.id, "nickname": "Alice", "personId": "alice",
		"grant": accepted.Grant}); err != nil {
		t.Fatal(err)
	}
}

// chat is one more round of the legitimate chat: the customer sends over
// REST, alice answers over the wire, the customer refreshes.
func (r *trustRun) chat(t *testing.T) {
	t.Helper()
	if err := r.c.talk(r.ctx, r.ch, 0, r.said, r.said+1); err != nil {
		t.Fatalf("the legitimate chat failed: %v", err)
	}
	r.said++
}

// url returns the URL of path on application name.
func (r *trustRun) url(scheme, name, path string) string {
	return scheme + "://" + r.c.addrs[name] + path
}

// joinUnauthenticated: a RequestJoin with no opening exchange is refused
// with 109 and the connection closed.
func (r *trustRun) joinUnauthenticated(t *testing.T) {
	conn := rawDial(r.ctx, t, r.url("ws", r.owner, "/wire/basic"))
	_, err := conn.Request(r.ctx, wire.RequestJoin, map[string]any{"sessionId": r.ch.id, "nickname": "alice", "visibility": "INT"}, nil)
	wantRefused(t, conn, err, wire.CodeNotAuthenticated)
}

// badProofs: a stranger's name, a known name with a wrong proof, and a
// right proof replayed from another connection are each refused with 110
// and the connection closed.
func (r *trustRun) badProofs(t *testing.T) {
	ws := r.url("ws", r.owner, "/wire/basic")
	stranger := rawDial(r.ctx, t, ws)
	_, err := challenge(r.ctx, stranger, "mallory")
	wantRefused(t, stranger, err, wire.CodeAuthFailed)

	wrong := rawDial(r.ctx, t, ws)
	if _, err := challenge(r.ctx, wrong, "gms-1"); err != nil {
		t.Fatal(err)
	}
	_, err = wrong.Request(r.ctx, wire.RequestAuthenticate, map[string]string{"proof": "garbage"}, nil)
	wantRefused(t, wrong, err, wire.CodeAuthFailed)

	a, b := rawDial(r.ctx, t, ws), rawDial(r.ctx, t, ws)
	nonceA, err := challenge(r.ctx, a, "gms-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := challenge(r.ctx, b, "gms-1"); err != nil {
		t.Fatal(err)
	}
	proofA := r.proof(nonceA, "gms-1", r.owner)
	_, err = b.Request(r.ctx, wire.RequestAuthenticate, map[string]string{"proof": proofA}, nil)
	wantRefused(t, b, err, wire.CodeAuthFailed)
	// The replayed proof was right on its own connection: B refused it for
	// being A's, not for being wrong.
	if _, err := a.Request(r.ctx, wire.RequestAuthenticate, map[string]string{"proof": proofA}, nil); err != nil {
		t.Fatalf("the proof over A's nonce, on A: %v", err)
	}
}

// badGrants: joins of gms-1 (admitted as an agent bridge) without a grant
// that lets this agent join this chat with this visibility are refused with
// their codes, and nothing joins: the customer sees alice's join only.
func (r *trustRun) badGrants(t *testing.T) {
	key, err := auth.NewKey(bytes.Repeat([]byte("another deployment "), 2))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(k auth.Key, agent, session string, ttl time.Duration) string {
		return k.SignGrant(auth.Grant{Agent: agent, Session: session, PartyType: "Agent", Visibility: "ALL", Expires: time.Now().Add(ttl)})
	}
	id := r.ch.id
	conn := r.web.dial(r.ctx, t, r.url("ws", r.owner, "/wire/basic"), r.owner, nil)
	for _, tc := range []struct {
		name       string
		grant      string
		visibility string
		want       wire.Code
	}{
		{"no grant", "", "", wire.CodeGrantInvalid},
		{"expired", sign(r.web.key, "mallory", id, -time.Second), "", wire.CodeGrantExpired},
		{"another session", sign(r.web.key, "mallory", "another-session", time.Minute), "", wire.CodeGrantMismatch},
		{"another agent", sign(r.web.key, "alice", id, time.Minute), "", wire.CodeGrantMismatch},
		{"another key", sign(key, "mallory", id, time.Minute), "", wire.CodeGrantInvalid},
		{"INT on an ALL grant", sign(r.web.key, "mallory", id, time.Minute), "INT", wire.CodeGrantMismatch},
	} {
		body := map[string]any{"sessionId": id, "nickname": "alice", "personId": "mallory", "grant": tc.grant}
		if tc.visibility != "" {
			body["visibility"] = tc.visibility
		}
		_, err := conn.Request(r.ctx, wire.RequestJoin, body, nil)
		if code := codeOf(err); code != tc.want {
			t.Errorf("%s: join = %v (code %d), want code %d", tc.name, err, code, tc.want)
		}
	}
	bot := r.web.dial(r.ctx, t, r.url("ws", r.owner, "/wire/basic"), r.owner, nil)
	_, err = bot.Request(r.ctx, wire.RequestJoin, map[string]any{"sessionId": id, "nickname": "bot", "userType": "External"}, nil)
	wantRefused(t, bot, err, wire.CodeRoleRefused) // gms-1 is no configured bot
	if err := r.c.poll(r.ch); err != nil {
		t.Fatal(err)
	}
	if n := agentJoins(r.ch.seen); n != 1 {
		t.Errorf("the customer saw %d agents join, want alice's only", n)
	}
}

// agentJoins counts the agent-side joins in events.
func agentJoins(events []pushed) int {
	n := 0
	for _, e := range events {
		if e.Type == "ParticipantJoined" && e.From.Type != "Client" {
			n++
		}
	}
	return n
}

// rejoinWithoutKey: alice's party is taken over from another connection
// only with its secure key.
func (r *trustRun) rejoinWithoutKey(t *testing.T) {
	conn := r.web.dial(r.ctx, t, r.url("ws", r.owner, "/wire/basic"), r.owner, nil)
	for _, key := range []string{"", "wrong-key"} {
		body := map[string]any{"sessionId": r.ch.id, "userId": r.ch.agentID}
		if key != "" {
			body["secureKey"] = key
		}
		_, err := conn.Request(r.ctx, wire.RequestJoin, body, nil)
		if code := codeOf(err); code != wire.CodeBadSecureKey {
			t.Errorf("rejoin with key %q = %v (code %d), want %d", key, err, code, wire.CodeBadSecureKey)
		}
	}
	// alice's own desktop takes the party back with its key: the chat goes
	// on on this connection.
	if err := r.c.join(r.ctx, r.ch, r.c.addrs[r.owner], map[string]any{"sessionId": r.ch.id, "userId": r.ch.agentID}); err != nil {
		t.Fatalf("rejoin with the party's key: %v", err)
	}
}

// ixnRoles: on the interaction server, no admitted peer registers in a role
// or under a name the deployment file does not give it, a stranger is
// refused, and the reporting stream is not served before a registration.
func (r *trustRun) ixnRoles(t *testing.T) {
	ws := r.url("ws", "ixn-1", "/wire/ixn")
	chat := peerAs(t, r.c.dataDir, r.owner)
	for _, tc := range []struct {
		name string
		as   testPeer
		body map[string]any
	}{
		{"gms-1 as reporting", r.web, map[string]any{"clientName": "gms-1", "clientType": "reporting"}},
		{"gms-1 as another web API's agent", r.web, map[string]any{"clientName": "other-web/alice", "clientType": "agent"}},
		{"a chat server as the other", chat, map[string]any{"clientName": r.other, "clientType": "media-server"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := tc.as.dial(r.ctx, t, ws, "ixn-1", nil)
			_, err := conn.Request(r.ctx, wire.RequestRegisterClient, tc.body, nil)
			wantRefused(t, conn, err, wire.CodeRoleRefused)
		})
	}
	stranger := rawDial(r.ctx, t, ws)
	_, err := challenge(r.ctx, stranger, "mallory")
	wantRefused(t, stranger, err, wire.CodeAuthFailed)

	conn := r.web.dial(r.ctx, t, ws, "ixn-1", nil)
	_, err = conn.Request(r.ctx, wire.RequestSubscribe, map[string]any{"topic": "reporting", "fromId": 1}, nil)
	if code := codeOf(err); code != wire.CodeNotRegistered {
		t.Errorf("reporting subscription before registering = %v (code %d), want %d", err, code, wire.CodeNotRegistered)
	}
}

// flexAsChatServer: the customer side admits web APIs only; the other chat
// server, admitted on the owner as a peer, is refused there with 111.
func (r *trustRun) flexAsChatServer(t *testing.T) {
	conn := rawDial(r.ctx, t, r.url("ws", r.owner, "/wire/flex"))
	nonce, err := challenge(r.ctx, conn, r.other)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Request(r.ctx, wire.RequestAuthenticate, map[string]string{"proof": r.proof(nonce, r.other, r.owner)}, nil)
	wantRefused(t, conn, err, wire.CodeRoleRefused)
}

// httpSurfaces: /admin/*, /kpi and /metrics take the admin token only,
// /status and session locations a signed application request, /healthz
// anyone.
func (r *trustRun) httpSurfaces(t *testing.T) {
	base := r.url("http", r.owner, "")
	admin := "Bearer " + r.web.key.AdminToken()
	for _, authz := range []string{"", "Bearer not-the-token"} {
		code, status := httpCall(t, "POST", base+"/admin/disable", authz, "")
		if status != http.StatusUnauthorized || code != int(wire.CodeAuthFailed) {
			t.Errorf("POST /admin/disable with %q = %d code %d, want 401 code 110", authz, status, code)
		}
	}
	if r.disabled(t) {
		t.Fatal("an unauthenticated /admin/disable disabled the chat server")
	}
	if _, status := httpCall(t, "POST", base+"/admin/disable", admin, "application/json"); status != http.StatusOK {
		t.Fatalf("POST /admin/disable as admin = %d", status)
	}
	if !r.disabled(t) {
		t.Error("/admin/disable as admin did not disable the chat server")
	}
	r.chat(t) // a disabled server takes no new chats but serves its own
	if _, status := httpCall(t, "POST", base+"/admin/enable", admin, "application/json"); status != http.StatusOK {
		t.Fatalf("POST /admin/enable as admin = %d", status)
	}
	for _, path := range []string{"/kpi", "/metrics"} {
		if _, status := httpCall(t, "GET", base+path, "", ""); status != http.StatusUnauthorized {
			t.Errorf("GET %s unauthenticated = %d, want 401", path, status)
		}
		if _, status := httpCall(t, "GET", base+path, admin, ""); status != http.StatusOK {
			t.Errorf("GET %s as admin = %d, want 200", path, status)
		}
	}
	if _, status := httpCall(t, "GET", base+"/healthz", "", ""); status != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200", status)
	}
	for _, path := range []string{"/status", "/sessions/" + r.ch.id + "/location"} {
		if _, status := httpCall(t, "GET", base+path, "", ""); status != http.StatusUnauthorized {
			t.Errorf("GET %s unsigned = %d, want 401", path, status)
		}
		resp, err := r.web.get(base+path, r.owner)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s signed by gms-1 = %d, want 200", path, resp.StatusCode)
		}
	}
}

// disabled reads the owner's disabled flag as the admin.
func (r *trustRun) disabled(t *testing.T) bool {
	t.Helper()
	resp, err := r.web.adminGet(r.url("http", r.owner, "/status"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct{ Disabled bool }
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("GET /status as admin: %d %v", resp.StatusCode, err)
	}
	return st.Disabled
}

// spoofedFileUploaded: an admitted agent party cannot add the FileUploaded
// notice only the chat server adds after a real upload.
func (r *trustRun) spoofedFileUploaded(t *testing.T) {
	_, err := r.ch.agent.Request(r.ctx, wire.RequestNotify, map[string]any{"sessionId": r.ch.id, "userId": r.ch.agentID,
		"noticeType": "FileUploaded", "userData": map[string]string{"file-id": "x", "file-name": "invoice.pdf"}}, nil)
	if code := codeOf(err); code != wire.CodeNotAllowed {
		t.Errorf("spoofed FileUploaded = %v (code %d), want %d", err, code, wire.CodeNotAllowed)
	}
}

// countedNotLogged: the refusals are in /metrics by reason, and neither the
// deployment secret nor the admin token is in any application's log.
func (r *trustRun) countedNotLogged(t *testing.T) {
	for server, reasons := range map[string][]string{
		r.owner: {auth.ReasonNotAuthenticated, auth.ReasonUnknownPeer, auth.ReasonBadProof, auth.ReasonRole},
		"ixn-1": {auth.ReasonUnknownPeer},
	} {
		metrics := r.metrics(t, server)
		for _, reason := range reasons {
			if n := refusedCount(metrics, reason); n <= 0 {
				t.Errorf("%s: parley_auth_refused_total{reason=%q} = %v, want > 0", server, reason, n)
			}
		}
		if strings.Contains(metrics, string(r.secret)) || strings.Contains(metrics, r.web.key.AdminToken()) {
			t.Errorf("%s: /metrics shows a secret", server)
		}
	}
	out := r.c.out.String()
	if strings.Contains(out, string(r.secret)) {
		t.Error("the deployment secret is in the applications' output")
	}
	if strings.Contains(out, r.web.key.AdminToken()) {
		t.Error("the admin token is in the applications' output")
	}
	if !strings.Contains(out, "peer refused") {
		t.Error("no refusal logged")
	}
}

// metrics returns server's /metrics, read as the admin.
func (r *trustRun) metrics(t *testing.T, server string) string {
	t.Helper()
	resp, err := r.web.adminGet(r.url("http", server, "/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics of %s as admin: %d %v", server, resp.StatusCode, err)
	}
	return string(b)
}

// refusedCount returns the parley_auth_refused_total sample of reason in a
// Prometheus text exposition, or -1 without one.
func refusedCount(metrics, reason string) float64 {
	re := regexp.MustCompile(`(?m)^parley_auth_refused_total\{reason="` + regexp.QuoteMeta(reason) + `"\} (\S+)$`)
	m := re.FindStringSubmatch(metrics)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// readSecret returns the deployment secret parley made in dataDir.
func readSecret(t *testing.T, dataDir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "secret"))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(b)
}

// proof is what client proves the deployment key with over the server's
// nonce in RequestAuthenticate (auth.Handshake): HMAC-SHA256 of "client",
// the nonce, the client's and the server's names, NUL-separated, base64url.
func (r *trustRun) proof(nonce, client, server string) string {
	h := hmac.New(sha256.New, r.secret)
	h.Write([]byte(strings.Join([]string{"client", nonce, client, server}, "\x00")))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// rawDial opens a wire connection to url with no opening exchange, served
// by a handler that drops every event; it is closed when the test ends.
func rawDial(ctx context.Context, t *testing.T, url string) *wire.Conn {
	t.Helper()
	c, err := wire.Dial(ctx, url, wire.Options{})
	if err != nil {
		t.Fatal(err)
	}
	go c.Serve(ctx, wire.HandlerFunc(func(context.Context, *wire.Conn, wire.Message) {}))
	t.Cleanup(func() { c.Close(); <-c.Done() })
	return c
}

// challenge sends RequestChallenge as client on c and returns the server's
// nonce.
func challenge(ctx context.Context, c *wire.Conn, client string) (string, error) {
	var ch struct{ Nonce string }
	_, err := c.Request(ctx, wire.RequestChallenge, map[string]string{"client": client, "nonce": auth.NewNonce()}, &ch)
	return ch.Nonce, err
}

// wantRefused fails t unless err is the wire error want and the server
// closed c.
func wantRefused(t *testing.T, c *wire.Conn, err error, want wire.Code) {
	t.Helper()
	if code := codeOf(err); code != want {
		t.Errorf("got %v (code %d), want code %d", err, code, want)
	}
	if !settle.Poll(5*time.Second, func() bool { return isClosed(c.Done()) }) {
		t.Errorf("the connection is still open after the refusal (code %d)", want)
	}
}

// codeOf returns the code of the wire error err carries, 0 without one.
func codeOf(err error) wire.Code {
	var we *wire.Error
	if errors.As(err, &we) {
		return we.Code
	}
	return 0
}

// httpCall sends method to url with the Authorization header authz and the
// Content-Type ct (each may be empty); it returns the status and the JSON
// body's code (0 without one).
func httpCall(t *testing.T, method, url, authz, ct string) (code, status int) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(fmt.Errorf("%s %s: %w", method, url, err))
	}
	defer resp.Body.Close()
	var body struct{ Code int }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return body.Code, resp.StatusCode
}

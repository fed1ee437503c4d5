package ixnserver_test

import (
	"errors"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/wire"
)

// startTrust starts ixn-1 on SQLite with a Trust of key that admits the
// test deployment: chat-1 as a media server, gms-1's desktop bridge as
// agents, and the external clients router-1 (routing) and stats-1
// (reporting).
func startTrust(t *testing.T, key auth.Key) *harness {
	t.Helper()
	p := auth.NewPolicy("ixn-1")
	p.Allow("chat-1", auth.RoleMediaServer)
	p.Allow("gms-1", auth.RoleAgent)
	p.AllowClient("router-1", auth.RoleRouting)
	p.AllowClient("stats-1", auth.RoleReporting)
	trust := &service.Trust{Name: "ixn-1", Gate: &auth.Gate{Key: key, Policy: p}, Key: key}
	return startTrusted(t, defaultOptions(t), onSQLite, onSQLite.fresh(t), newClock(), trust)
}

func newKey(t *testing.T) auth.Key {
	t.Helper()
	k, err := auth.NewKey([]byte(auth.NewNonce()[:32]))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func reg(name, kind string) map[string]string {
	return map[string]string{"clientName": name, "clientType": kind}
}

// TestTrustRegistration checks that each peer registers only as the client
// type and under the name its role gives it.
func TestTrustRegistration(t *testing.T) {
	key := newKey(t)
	h := startTrust(t, key)
	router, stats := key.ClientKey("router-1"), key.ClientKey("stats-1")
	tests := []struct {
		name     string
		as       string
		key      auth.Key
		register map[string]string
		want     wire.Code // 0: registered
	}{
		{"chat server as itself", "chat-1", key, reg("chat-1", "media-server"), 0},
		{"chat server as another", "chat-1", key, reg("chat-2", "media-server"), wire.CodeRoleRefused},
		{"chat server as reporting", "chat-1", key, reg("chat-1", "reporting"), wire.CodeRoleRefused},
		{"bridge agent", "gms-1", key, reg("gms-1/alice", "agent"), 0},
		{"bridge agent of another bridge", "gms-1", key, reg("other/alice", "agent"), wire.CodeRoleRefused},
		{"bridge agent without its prefix", "gms-1", key, reg("gms-1", "agent"), wire.CodeRoleRefused},
		{"bridge as reporting", "gms-1", key, reg("gms-1", "reporting"), wire.CodeRoleRefused},
		{"bridge as media server", "gms-1", key, reg("gms-1", "media-server"), wire.CodeRoleRefused},
		{"reporting client", "stats-1", stats, reg("stats-1", "reporting"), 0},
		{"reporting client as another", "stats-1", stats, reg("stats-2", "reporting"), wire.CodeRoleRefused},
		{"routing client", "router-1", router, reg("router-1", "routing"), 0},
		{"routing client as reporting", "router-1", router, reg("router-1", "reporting"), wire.CodeRoleRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.dialAs(tt.as, tt.key)
			if tt.want == 0 {
				c.ok(wire.RequestRegisterClient, tt.register)
				return
			}
			c.fails(wire.RequestRegisterClient, tt.register, tt.want)
			select { // no second try on this connection
			case <-c.conn.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("the refused connection is still open")
			}
		})
	}
}

// TestTrustAdmission checks the opening exchange itself: a request before
// it, a stranger and a role /wire/ixn does not admit are refused.
func TestTrustAdmission(t *testing.T) {
	key := newKey(t)
	h := startTrust(t, key)
	h.dial("anyone").fails(wire.RequestRegisterClient, reg("chat-1", "media-server"), wire.CodeNotAuthenticated)
	stranger := h.dial("mallory")
	_, err := stranger.do(wire.RequestChallenge, map[string]string{"client": "mallory", "nonce": auth.NewNonce()})
	if code := codeOf(err); code != wire.CodeAuthFailed {
		t.Errorf("stranger: err = %v, want code %d", err, wire.CodeAuthFailed)
	}
}

func codeOf(err error) wire.Code {
	var we *wire.Error
	if errors.As(err, &we) {
		return we.Code
	}
	return -1
}

// TestTrustReportingStream checks that the admitted reporting client reads
// the stream.
func TestTrustReportingStream(t *testing.T) {
	key := newKey(t)
	h := startTrust(t, key)
	stats := h.dialAs("stats-1", key.ClientKey("stats-1"))
	stats.ok(wire.RequestRegisterClient, reg("stats-1", "reporting"))
	stats.ok(wire.RequestSubscribe, map[string]any{"topic": "reporting", "fromId": 1})
	chat := h.dialAs("chat-1", key)
	chat.ok(wire.RequestRegisterClient, reg("chat-1", "media-server"))
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c1", "queue": "default"})
	stats.wait(wire.EventInteractionSubmitted, forID("c1"))
}

// bridgeAgent registers alice through gms-1's desktop bridge and logs her
// in.
func bridgeAgent(h *harness, key auth.Key) *client {
	h.t.Helper()
	alice := h.dialAs("gms-1", key)
	alice.ok(wire.RequestRegisterClient, reg("gms-1/alice", "agent"))
	alice.ok(wire.RequestAgentLogin, map[string]any{"agentId": "alice", "password": "alice"})
	return alice
}

// checkGrant checks that token lets alice join chat id as an agent seeing
// everything, until DefaultGrantTTL after the server's clock.
func checkGrant(t *testing.T, h *harness, key auth.Key, token any, id string) {
	t.Helper()
	s, _ := token.(string)
	now := h.clock.Now()
	g, err := key.VerifyGrant(s, now)
	if err != nil {
		t.Fatalf("grant %q: %v", s, err)
	}
	if want := (auth.Grant{Agent: "alice", Session: id, PartyType: "Agent", Visibility: "ALL"}); g.Agent != want.Agent ||
		g.Session != want.Session || g.PartyType != want.PartyType || g.Visibility != want.Visibility {
		t.Errorf("grant = %+v, want %+v", g, want)
	}
	if err := g.Check(id, "alice", "Agent", "ALL"); err != nil {
		t.Errorf("grant does not admit alice to %s: %v", id, err)
	}
	if !g.Expires.Equal(now.Add(auth.DefaultGrantTTL)) {
		t.Errorf("grant expires %v, want %v", g.Expires, now.Add(auth.DefaultGrantTTL))
	}
	if _, err := key.VerifyGrant(s, now.Add(auth.DefaultGrantTTL)); !errors.Is(err, auth.ErrGrantExpired) {
		t.Errorf("grant at its expiry: err = %v, want %v", err, auth.ErrGrantExpired)
	}
	if _, err := newKey(t).VerifyGrant(s, now); !errors.Is(err, auth.ErrGrantInvalid) {
		t.Errorf("grant under another key: err = %v, want %v", err, auth.ErrGrantInvalid)
	}
}

// TestTrustGrants checks that the agent gets a grant for the chat it
// accepts, and again when it takes it back from its workbin.
func TestTrustGrants(t *testing.T) {
	key := newKey(t)
	h := startTrust(t, key)
	chat := h.dialAs("chat-1", key)
	chat.ok(wire.RequestRegisterClient, reg("chat-1", "media-server"))
	alice := bridgeAgent(h, key)
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c1", "queue": "default"})
	alice.wait(wire.EventInvite, forID("c1"))
	h.clock.Advance(7 * time.Second) // the grant's expiry follows the server's clock
	checkGrant(t, h, key, alice.ok(wire.RequestAccept, map[string]string{"interactionId": "c1"})["grant"], "c1")

	alice.ok(wire.RequestPlaceInWorkbin, map[string]string{"interactionId": "c1", "workbin": "async"})
	h.clock.Advance(time.Minute)
	pulled := alice.ok(wire.RequestPull, map[string]string{"interactionId": "c1"})
	checkGrant(t, h, key, pulled["grant"], "c1")
}

// TestNoTrustNoGrant checks that a server without a Trust signs nothing.
func TestNoTrustNoGrant(t *testing.T) {
	h := start(t, defaultOptions(t))
	chat := h.register("chat-1", "media-server")
	alice := h.agent("alice")
	chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c1", "queue": "default"})
	alice.wait(wire.EventInvite, forID("c1"))
	if g, ok := alice.ok(wire.RequestAccept, map[string]string{"interactionId": "c1"})["grant"]; ok {
		t.Errorf("accept without a Trust carries grant %v", g)
	}
	alice.ok(wire.RequestPlaceInWorkbin, map[string]string{"interactionId": "c1", "workbin": "async"})
	if g, ok := alice.ok(wire.RequestPull, map[string]string{"interactionId": "c1"})["grant"]; ok {
		t.Errorf("pull without a Trust carries grant %v", g)
	}
}

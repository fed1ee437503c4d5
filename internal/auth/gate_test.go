package auth

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/wire"
)

const (
	secret      = "correct horse battery staple"
	otherSecret = "another deployment's secret!"
)

// ixnPolicy is the policy of the interaction server ixn1 in the tests.
func ixnPolicy() *Policy {
	p := NewPolicy("ixn1")
	p.Allow("chat1", RoleMediaServer)
	p.Allow("web1", RoleAgent)
	p.AllowClient("router", RoleRouting)
	return p
}

// manualChallenge sends RequestChallenge as client and returns the reply,
// without checking the server's proof.
func manualChallenge(t *testing.T, c *wire.Conn, client string) challengeReply {
	t.Helper()
	var ch challengeReply
	msg, err := c.Request(testCtx(t), wire.RequestChallenge, challengeRequest{Client: client, Nonce: NewNonce()}, &ch)
	if err != nil {
		t.Fatalf("RequestChallenge: %v", err)
	}
	if msg.Name != wire.EventChallenge || ch.Nonce == "" {
		t.Fatalf("RequestChallenge answered %s %+v, want EventChallenge with a nonce", msg.Name, ch)
	}
	return ch
}

// manualAuthenticate sends RequestAuthenticate with proof.
func manualAuthenticate(t *testing.T, c *wire.Conn, proof string) error {
	t.Helper()
	_, err := c.Request(testCtx(t), wire.RequestAuthenticate, authenticateRequest{Proof: proof}, nil)
	return err
}

// ask sends a request as an admitted peer and returns whom the server
// admitted.
func ask(t *testing.T, c *wire.Conn) admitted {
	t.Helper()
	var got admitted
	if _, err := c.Request(testCtx(t), wire.RequestRegisterClient, nil, &got); err != nil {
		t.Fatalf("request after admission: %v", err)
	}
	return got
}

func TestGateHandshake(t *testing.T) {
	key := testKey(t, secret)
	other := testKey(t, otherSecret)
	tests := []struct {
		name     string
		cred     Credentials
		roles    []Role
		want     admitted  // when admitted
		wantCode wire.Code // when refused by the server
		wantErr  error     // when refused by the client
		refusal  string
	}{
		{name: "application", cred: Credentials{Name: "chat1", Key: key}, roles: []Role{RoleMediaServer},
			want: admitted{Name: "chat1"}},
		{name: "one of the guarded roles", cred: Credentials{Name: "web1", Key: key}, roles: []Role{RoleMediaServer, RoleAgent},
			want: admitted{Name: "web1"}},
		{name: "external client", cred: Credentials{Name: "router", Key: key.ClientKey("router")}, roles: []Role{RoleRouting},
			want: admitted{Name: "router", External: true}},
		{name: "unknown name", cred: Credentials{Name: "stranger", Key: key}, roles: []Role{RoleMediaServer},
			wantCode: wire.CodeAuthFailed, refusal: "stranger/" + ReasonUnknownPeer},
		{name: "another role", cred: Credentials{Name: "web1", Key: key}, roles: []Role{RoleMediaServer},
			wantCode: wire.CodeRoleRefused, refusal: "web1/" + ReasonRole},
		{name: "external client in an application's role", cred: Credentials{Name: "router", Key: key.ClientKey("router")},
			roles: []Role{RoleMediaServer}, wantCode: wire.CodeRoleRefused, refusal: "router/" + ReasonRole},
		{name: "wrong key", cred: Credentials{Name: "chat1", Key: other}, roles: []Role{RoleMediaServer},
			wantErr: errServerProof},
		{name: "external client with the deployment key", cred: Credentials{Name: "router", Key: key},
			roles: []Role{RoleRouting}, wantErr: errServerProof},
		{name: "application with a client key", cred: Credentials{Name: "chat1", Key: key.ClientKey("chat1")},
			roles: []Role{RoleMediaServer}, wantErr: errServerProof},
		{name: "no key", cred: Credentials{Name: "chat1"}, roles: []Role{RoleMediaServer}, wantErr: errNoKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settle.NoLeaks(t)
			var refused refusals
			g := &Gate{Key: key, Policy: ixnPolicy(), Refused: refused.hook}
			c := dial(t, startGate(t, g, tt.roles, nil))
			err := Handshake(testCtx(t), c, tt.cred, "ixn1")
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Handshake = %v, want %v", err, tt.wantErr)
				}
			case tt.wantCode != 0:
				wantCode(t, err, tt.wantCode)
				closed(t, c)
			default:
				if err != nil {
					t.Fatalf("Handshake = %v", err)
				}
				if got := ask(t, c); got != tt.want {
					t.Fatalf("admitted %+v, want %+v", got, tt.want)
				}
			}
			var want []string
			if tt.refusal != "" {
				want = []string{tt.refusal}
			}
			if got := refused.list(); !slices.Equal(got, want) {
				t.Fatalf("Refused got %q, want %q", got, want)
			}
		})
	}
}

// TestGateRefusesBadProofs sends the proofs a correct client would not, as
// an attacker does, to check that the server itself refuses them.
func TestGateRefusesBadProofs(t *testing.T) {
	key := testKey(t, secret)
	other := testKey(t, otherSecret)
	tests := []struct {
		name   string
		client string
		proof  func(nonce string) string
	}{
		{"wrong key", "chat1", func(n string) string { return other.sum("client", n, "chat1", "ixn1") }},
		{"deployment key for an external client", "router", func(n string) string { return key.sum("client", n, "router", "ixn1") }},
		{"client key for an application", "chat1", func(n string) string {
			return key.ClientKey("chat1").sum("client", n, "chat1", "ixn1")
		}},
		{"proof for another server", "chat1", func(n string) string { return key.sum("client", n, "chat1", "ixn2") }},
		{"proof for another client", "chat1", func(n string) string { return key.sum("client", n, "web1", "ixn1") }},
		{"server's proof reflected", "chat1", func(n string) string { return key.sum("server", n, "chat1", "ixn1") }},
		{"empty proof", "chat1", func(string) string { return "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settle.NoLeaks(t)
			var refused refusals
			g := &Gate{Key: key, Policy: ixnPolicy(), Refused: refused.hook}
			c := dial(t, startGate(t, g, []Role{RoleMediaServer, RoleRouting}, nil))
			ch := manualChallenge(t, c, tt.client)
			wantCode(t, manualAuthenticate(t, c, tt.proof(ch.Nonce)), wire.CodeAuthFailed)
			closed(t, c)
			if got, want := refused.list(), []string{tt.client + "/" + ReasonBadProof}; !slices.Equal(got, want) {
				t.Fatalf("Refused got %q, want %q", got, want)
			}
		})
	}
}

func TestGateReplayedProof(t *testing.T) {
	settle.NoLeaks(t)
	key := testKey(t, secret)
	var refused refusals
	g := &Gate{Key: key, Policy: ixnPolicy(), Refused: refused.hook}
	s := startGate(t, g, []Role{RoleMediaServer}, nil)

	// The proof a legitimate chat1 sent on its own connection...
	first := dial(t, s)
	ch := manualChallenge(t, first, "chat1")
	proof := key.sum("client", ch.Nonce, "chat1", "ixn1")
	if err := manualAuthenticate(t, first, proof); err != nil {
		t.Fatalf("genuine proof: %v", err)
	}
	// ...is worth nothing on another one: its server nonce differs.
	replay := dial(t, s)
	if ch2 := manualChallenge(t, replay, "chat1"); ch2.Nonce == ch.Nonce {
		t.Fatal("two connections were sent the same server nonce")
	}
	wantCode(t, manualAuthenticate(t, replay, proof), wire.CodeAuthFailed)
	closed(t, replay)
	if got, want := refused.list(), []string{"chat1/" + ReasonBadProof}; !slices.Equal(got, want) {
		t.Fatalf("Refused got %q, want %q", got, want)
	}
	if got := ask(t, first); got.Name != "chat1" {
		t.Fatalf("the genuine connection serves %+v", got)
	}
}

func TestGateOutOfOrder(t *testing.T) {
	key := testKey(t, secret)
	tests := []struct {
		name    string
		run     func(t *testing.T, c *wire.Conn) error
		code    wire.Code
		refusal string
	}{
		{"request before the exchange", func(t *testing.T, c *wire.Conn) error {
			_, err := c.Request(testCtx(t), wire.RequestRegisterClient, nil, nil)
			return err
		}, wire.CodeNotAuthenticated, "/" + ReasonNotAuthenticated},
		{"request between challenge and proof", func(t *testing.T, c *wire.Conn) error {
			manualChallenge(t, c, "chat1")
			_, err := c.Request(testCtx(t), wire.RequestRegisterClient, nil, nil)
			return err
		}, wire.CodeNotAuthenticated, "chat1/" + ReasonNotAuthenticated},
		{"authenticate without a challenge", func(t *testing.T, c *wire.Conn) error {
			return manualAuthenticate(t, c, "proof")
		}, wire.CodeAuthFailed, "/" + ReasonMalformed},
		{"repeated challenge", func(t *testing.T, c *wire.Conn) error {
			manualChallenge(t, c, "chat1")
			_, err := c.Request(testCtx(t), wire.RequestChallenge, challengeRequest{Client: "web1", Nonce: NewNonce()}, nil)
			return err
		}, wire.CodeAuthFailed, "web1/" + ReasonMalformed},
		{"challenge without a name", func(t *testing.T, c *wire.Conn) error {
			_, err := c.Request(testCtx(t), wire.RequestChallenge, challengeRequest{Nonce: NewNonce()}, nil)
			return err
		}, wire.CodeAuthFailed, "/" + ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settle.NoLeaks(t)
			var refused refusals
			g := &Gate{Key: key, Policy: ixnPolicy(), Refused: refused.hook}
			c := dial(t, startGate(t, g, []Role{RoleMediaServer}, nil))
			wantCode(t, tt.run(t, c), tt.code)
			closed(t, c)
			if got, want := refused.list(), []string{tt.refusal}; !slices.Equal(got, want) {
				t.Fatalf("Refused got %q, want %q", got, want)
			}
		})
	}
}

func TestGateAdmitRefuses(t *testing.T) {
	settle.NoLeaks(t)
	var refused refusals
	g := &Gate{Key: testKey(t, secret), Policy: ixnPolicy(), Refused: refused.hook}
	s := startGate(t, g, []Role{RoleMediaServer}, func(Identity) wire.Handler { return nil })
	c := dial(t, s)
	wantCode(t, Handshake(testCtx(t), c, Credentials{Name: "chat1", Key: g.Key}, "ixn1"), wire.CodeRoleRefused)
	closed(t, c)
	if got, want := refused.list(), []string{"chat1/" + ReasonRole}; !slices.Equal(got, want) {
		t.Fatalf("Refused got %q, want %q", got, want)
	}
}

func TestGateCertificatesOnly(t *testing.T) {
	settle.NoLeaks(t)
	var refused refusals
	g := &Gate{Policy: ixnPolicy(), Refused: refused.hook} // no key
	c := dial(t, startGate(t, g, []Role{RoleMediaServer}, nil))
	wantCode(t, Handshake(testCtx(t), c, Credentials{Name: "chat1", Key: testKey(t, secret)}, "ixn1"), wire.CodeAuthFailed)
	closed(t, c)
	if got, want := refused.list(), []string{"chat1/" + ReasonBadProof}; !slices.Equal(got, want) {
		t.Fatalf("Refused got %q, want %q", got, want)
	}
}

func TestGateOpenTimeout(t *testing.T) {
	settle.NoLeaks(t)
	key := testKey(t, secret)
	var refused refusals
	g := &Gate{Key: key, Policy: ixnPolicy(), Refused: refused.hook, OpenTimeout: 50 * time.Millisecond}
	s := startGate(t, g, []Role{RoleMediaServer}, nil)

	admittedConn := dial(t, s)
	if err := Handshake(testCtx(t), admittedConn, Credentials{Name: "chat1", Key: key}, "ixn1"); err != nil {
		t.Fatal(err)
	}
	halfway := dial(t, s) // challenged but never proves
	manualChallenge(t, halfway, "chat1")
	silent := dial(t, s) // dialled last: its timer fires last
	closed(t, halfway)
	closed(t, silent)
	settle.Eventually(t, 5*time.Second, "two timeouts", func() bool { return len(refused.list()) == 2 })
	if got, want := refused.list(), []string{"/" + ReasonTimeout, "/" + ReasonTimeout}; !slices.Equal(got, want) {
		t.Fatalf("Refused got %q, want %q", got, want)
	}
	// The admitted connection's timer was due before the silent one's: it
	// must have been stopped by the admission.
	if got := ask(t, admittedConn); got.Name != "chat1" {
		t.Fatalf("admitted connection serves %+v", got)
	}
}

func TestHandshakeImpostor(t *testing.T) {
	key := testKey(t, secret)
	tests := []struct {
		name    string
		handler func(c *wire.Conn) wire.Handler
		wantErr error
	}{
		{"another deployment's server", func(c *wire.Conn) wire.Handler {
			g := &Gate{Key: testKey(t, otherSecret), Policy: ixnPolicy()}
			return g.Guard(c, "", []Role{RoleMediaServer}, whoami)
		}, errServerProof},
		{"proof replayed from the client's nonce", func(c *wire.Conn) wire.Handler {
			return wire.HandlerFunc(func(_ context.Context, c *wire.Conn, m wire.Message) {
				var req challengeRequest
				_ = m.Bind(&req)
				_ = c.Reply(m, wire.EventChallenge, challengeReply{Server: "ixn1", Nonce: NewNonce(), Proof: req.Nonce})
			})
		}, errServerProof},
		{"admits at once without a proof", func(c *wire.Conn) wire.Handler {
			return wire.HandlerFunc(func(_ context.Context, c *wire.Conn, m wire.Message) {
				_ = c.Reply(m, wire.EventAuthenticated, authenticated{Client: "chat1", Server: "ixn1"})
			})
		}, errServerProof},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settle.NoLeaks(t)
			s := startWire(t, func(c *wire.Conn, _ *http.Request) wire.Handler { return tt.handler(c) })
			c := dial(t, s)
			if err := Handshake(testCtx(t), c, Credentials{Name: "chat1", Key: key}, "ixn1"); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Handshake = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestHandshakeWrongServerName(t *testing.T) {
	settle.NoLeaks(t)
	key := testKey(t, secret)
	g := &Gate{Key: key, Policy: ixnPolicy()}
	c := dial(t, startGate(t, g, []Role{RoleMediaServer}, nil))
	if err := Handshake(testCtx(t), c, Credentials{Name: "chat1", Key: key}, "ixn2"); err == nil {
		t.Fatal("Handshake with ixn1 succeeded for a dial to ixn2")
	}
}

// TestGateTimeoutAfterHangUp checks that a peer that hung up before the
// open timeout is not counted as timed out.
func TestGateTimeoutAfterHangUp(t *testing.T) {
	settle.NoLeaks(t)
	var refused refusals
	g := &Gate{Key: testKey(t, secret), Policy: ixnPolicy(), Refused: refused.hook, OpenTimeout: 300 * time.Millisecond}
	s := startGate(t, g, []Role{RoleMediaServer}, nil)
	gone := dial(t, s)
	manualChallenge(t, gone, "chat1") // the server has seen the connection
	_ = gone.Close()
	closed(t, gone)
	silent := dial(t, s) // dialled last: its timer fires last
	closed(t, silent)
	settle.Eventually(t, 5*time.Second, "a timeout", func() bool { return len(refused.list()) > 0 })
	if got, want := refused.list(), []string{"/" + ReasonTimeout}; !slices.Equal(got, want) {
		t.Fatalf("Refused got %q, want %q", got, want)
	}
}

package auth

import (
	"context"
	"errors"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// DefaultOpenTimeout bounds the opening exchange: a connection that has not
// been admitted by then is closed, so that strangers cannot hold sockets.
const DefaultOpenTimeout = 10 * time.Second

// Refusal reasons, as Gate.Refused receives them (and /metrics labels them).
const (
	ReasonNotAuthenticated = "not-authenticated" // a request before the exchange
	ReasonUnknownPeer      = "unknown-peer"      // a name the deployment does not know here
	ReasonBadProof         = "bad-proof"         // a wrong key, or a proof for another nonce
	ReasonCertificate      = "certificate"       // a certificate naming another peer
	ReasonRole             = "role"              // known, but not in this role
	ReasonTimeout          = "timeout"           // no exchange within the open timeout
	ReasonMalformed        = "malformed"         // an unreadable exchange
	ReasonGrant            = "grant"             // a join without a valid grant (decided by the role)
)

// Gate admits the peers of a server's connections: each must prove its name,
// by a client certificate or by the challenge-response keyed by the
// deployment key (or its ClientKey for an external client), and be allowed
// by the Policy in the role of the path it connected to. Nothing of the role
// runs for a connection before that. A Gate is safe for concurrent use.
type Gate struct {
	// Key is the deployment key. A zero Key admits certificates only.
	Key Key
	// Policy is who is admitted in which role; its Server is this server.
	Policy *Policy
	// OpenTimeout bounds the exchange; zero means DefaultOpenTimeout.
	OpenTimeout time.Duration
	// Refused, when set, is told of every refusal with its reason (for
	// metrics and logs). It must not block.
	Refused func(peer, reason string)
	// Now is the clock of signed HTTP requests; nil means time.Now.
	Now func() time.Time

	replays replayCache // nonces of signed HTTP requests
}

// challengeRequest is the body of RequestChallenge.
type challengeRequest struct {
	Client string `json:"client"`
	Nonce  string `json:"nonce"`
}

// challengeReply is the body of EventChallenge.
type challengeReply struct {
	Server string `json:"server"`
	Nonce  string `json:"nonce"`
	Proof  string `json:"proof"`
}

// authenticateRequest is the body of RequestAuthenticate.
type authenticateRequest struct {
	Proof string `json:"proof"`
}

// authenticated is the body of EventAuthenticated. When a client
// certificate admitted the peer at once, Proof is the server's proof over
// the client's nonce, as in EventChallenge (empty for a server without a
// key), so that a client holding the key still knows whom it talks to.
type authenticated struct {
	Client string `json:"client"`
	Server string `json:"server"`
	Roles  []Role `json:"roles"`
	Proof  string `json:"proof,omitempty"`
}

// Guard returns the handler of connection c, whose client certificate (when
// it presented one the listener verified) names certName. It answers the
// opening exchange, refusing and closing the connection on anything else;
// once the peer is admitted in one of roles, admit builds the role's handler, which
// serves every later message. admit returning nil refuses the peer too.
func (g *Gate) Guard(c *wire.Conn, certName string, roles []Role, admit func(Identity) wire.Handler) wire.Handler {
	gd := &guard{g: g, c: c, certName: certName, roles: roles, admit: admit}
	gd.timer = time.AfterFunc(g.openTimeout(), func() { gd.expire() })
	return gd
}

func (g *Gate) openTimeout() time.Duration {
	if g.OpenTimeout > 0 {
		return g.OpenTimeout
	}
	return DefaultOpenTimeout
}

// guard is one connection's state. ServeWire runs on the connection's
// reader goroutine only, so the fields need no lock; the timer's expire
// reads none of them.
type guard struct {
	g        *Gate
	c        *wire.Conn
	certName string
	roles    []Role
	admit    func(Identity) wire.Handler

	client string      // the name RequestChallenge claimed
	nonce  string      // the server nonce it was sent; empty before
	timer  *time.Timer // closes the connection when the exchange is late
	next   wire.Handler
}

func (gd *guard) ServeWire(ctx context.Context, c *wire.Conn, m wire.Message) {
	if gd.next != nil {
		gd.next.ServeWire(ctx, c, m)
		return
	}
	switch m.Name {
	case wire.RequestChallenge:
		gd.challenge(m)
	case wire.RequestAuthenticate:
		gd.authenticate(m)
	default:
		gd.refuse(m, gd.client, ReasonNotAuthenticated,
			wire.Errorf(wire.CodeNotAuthenticated, "%s before the opening exchange: send %s first", m.Name, wire.RequestChallenge))
	}
}

// challenge answers RequestChallenge: with the server's nonce and its proof
// over the client's, or, when the client certificate already proves the
// name, by admitting the peer at once.
func (gd *guard) challenge(m wire.Message) {
	var req challengeRequest
	if err := m.Bind(&req); err != nil || req.Client == "" || gd.nonce != "" {
		gd.refuse(m, req.Client, ReasonMalformed, wire.Errorf(wire.CodeAuthFailed, "malformed or repeated %s", wire.RequestChallenge))
		return
	}
	gd.client = req.Client
	id, ok := gd.g.Policy.identity(req.Client)
	switch {
	case gd.certName != "" && gd.certName != req.Client:
		gd.refuse(m, req.Client, ReasonCertificate, wire.Errorf(wire.CodeAuthFailed,
			"the client certificate names %q, not %q", gd.certName, req.Client))
	case !ok:
		gd.refuse(m, req.Client, ReasonUnknownPeer, wire.Errorf(wire.CodeAuthFailed,
			"%q is not a client of %s in the deployment file", req.Client, gd.g.Policy.Server()))
	case gd.certName != "":
		id.Certificate = true
		var proof string
		if !gd.g.Key.Zero() {
			proof = gd.g.keyOf(id).sum("server", req.Nonce, req.Client, gd.g.Policy.Server())
		}
		gd.admitAs(m, id, proof)
	case gd.g.Key.Zero():
		gd.refuse(m, req.Client, ReasonBadProof, wire.Errorf(wire.CodeAuthFailed, "this server admits client certificates only"))
	default:
		gd.nonce = NewNonce()
		key := gd.g.keyOf(id)
		_ = gd.c.Reply(m, wire.EventChallenge, challengeReply{Server: gd.g.Policy.Server(), Nonce: gd.nonce,
			Proof: key.sum("server", req.Nonce, req.Client, gd.g.Policy.Server())})
	}
}

// authenticate checks the client's proof over the server's nonce.
func (gd *guard) authenticate(m wire.Message) {
	var req authenticateRequest
	if err := m.Bind(&req); err != nil || gd.nonce == "" {
		gd.refuse(m, gd.client, ReasonMalformed, wire.Errorf(wire.CodeAuthFailed, "%s without a challenge", wire.RequestAuthenticate))
		return
	}
	id, _ := gd.g.Policy.identity(gd.client) // known: challenge checked it
	want := gd.g.keyOf(id).sum("client", gd.nonce, gd.client, gd.g.Policy.Server())
	if !equal(req.Proof, want) {
		gd.refuse(m, gd.client, ReasonBadProof, wire.Errorf(wire.CodeAuthFailed, "wrong proof for %q", gd.client))
		return
	}
	gd.admitAs(m, id, "")
}

// admitAs admits id when the policy gives it one of the guarded roles;
// proof is the server's, for a peer admitted by its certificate.
func (gd *guard) admitAs(m wire.Message, id Identity, proof string) {
	if !hasAny(id, gd.roles) {
		gd.refuse(m, id.Name, ReasonRole, wire.Errorf(wire.CodeRoleRefused,
			"%q may not connect here on %s", id.Name, gd.g.Policy.Server()))
		return
	}
	next := gd.admit(id)
	if next == nil {
		gd.refuse(m, id.Name, ReasonRole, wire.Errorf(wire.CodeRoleRefused, "%q is not admitted now", id.Name))
		return
	}
	if !gd.timer.Stop() {
		return // too late: expire is closing the connection
	}
	gd.next = next
	_ = gd.c.Reply(m, wire.EventAuthenticated, authenticated{Client: id.Name, Server: gd.g.Policy.Server(), Roles: id.Roles, Proof: proof})
}

// refuse answers m with werr and closes the connection: a refused peer gets
// no second try on it.
func (gd *guard) refuse(m wire.Message, peer, reason string, werr *wire.Error) {
	gd.timer.Stop()
	if gd.g.Refused != nil {
		gd.g.Refused(peer, reason)
	}
	_ = gd.c.ReplyError(m, werr)
	_ = gd.c.Close()
}

// expire closes a connection whose exchange did not finish in time; an
// admission stops the timer first, so an admitted connection is never
// closed by it. A connection that already ended (the peer hung up) is not
// a timeout.
func (gd *guard) expire() {
	select {
	case <-gd.c.Done():
		return
	default:
	}
	if gd.g.Refused != nil {
		gd.g.Refused("", ReasonTimeout)
	}
	_ = gd.c.Close()
}

// keyOf is the key id proves itself with.
func (g *Gate) keyOf(id Identity) Key {
	if id.External {
		return g.Key.ClientKey(id.Name)
	}
	return g.Key
}

// errServerProof is why Handshake fails when the server does not prove the
// deployment key: it is an impostor, or runs with another secret.
var errServerProof = errors.New("auth: the server's proof is wrong (another deployment secret?)")

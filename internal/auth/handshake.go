package auth

import (
	"context"
	"fmt"

	"github.com/parley-chat/parley/internal/wire"
)

// Credentials are what a client proves itself with in the opening exchange.
type Credentials struct {
	// Name is the application's name, or the external client's.
	Name string
	// Key is the deployment key for an application, the ClientKey for an
	// external client. With a client certificate that names Name it may be
	// zero.
	Key Key
}

// Handshake runs the client side of the opening exchange on c, which must be
// served already (wire.Client's OnConnect, or a Serve goroutine). server is
// the name of the application c was dialled to; Handshake fails unless that
// server proves the same key, so that an impostor learns nothing. A refusal
// comes back as the server's *wire.Error. When a client certificate admits
// c at once, the server proves the key too if cred has one; without one,
// only TLS's verification of the server's certificate vouches for it.
func Handshake(ctx context.Context, c *wire.Conn, cred Credentials, server string) error {
	nonce := NewNonce()
	var ch challengeReply
	msg, err := c.Request(ctx, wire.RequestChallenge, challengeRequest{Client: cred.Name, Nonce: nonce}, &ch)
	if err != nil {
		return fmt.Errorf("auth: challenge from %s: %w", server, err)
	}
	// EventAuthenticated (a client certificate proved the name) carries the
	// server's name and proof as EventChallenge does.
	if ch.Server != server {
		return fmt.Errorf("auth: dialled %s but %q answered", server, ch.Server)
	}
	if msg.Name == wire.EventAuthenticated && cred.Key.Zero() {
		return nil
	}
	if cred.Key.Zero() {
		return fmt.Errorf("auth: %s asks for a proof and there is no key: %w", server, errNoKey)
	}
	if !equal(ch.Proof, cred.Key.sum("server", nonce, cred.Name, server)) {
		return fmt.Errorf("auth: %s: %w", server, errServerProof)
	}
	if msg.Name == wire.EventAuthenticated {
		return nil
	}
	proof := cred.Key.sum("client", ch.Nonce, cred.Name, server)
	if _, err := c.Request(ctx, wire.RequestAuthenticate, authenticateRequest{Proof: proof}, nil); err != nil {
		return fmt.Errorf("auth: authenticate to %s: %w", server, err)
	}
	return nil
}

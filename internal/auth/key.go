package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// MinSecretSize is the shortest deployment secret accepted, in bytes.
const MinSecretSize = 16

// ErrShortSecret is returned by NewKey for a secret shorter than
// MinSecretSize.
var ErrShortSecret = fmt.Errorf("auth: the deployment secret must be at least %d bytes", MinSecretSize)

// Key is a secret that proves knowledge of it by HMAC-SHA256: the deployment
// key every application of a deployment holds, or a key derived from it. The
// zero Key holds nothing and proves nothing.
type Key struct{ b []byte }

// NewKey returns the deployment key of secret, which is copied.
func NewKey(secret []byte) (Key, error) {
	if len(secret) < MinSecretSize {
		return Key{}, ErrShortSecret
	}
	return Key{b: append([]byte(nil), secret...)}, nil
}

// Zero reports whether k holds no secret.
func (k Key) Zero() bool { return len(k.b) == 0 }

// String hides the secret, so that a Key printed by mistake reveals nothing.
func (k Key) String() string { return "auth.Key(redacted)" }

// Format hides the secret from every fmt verb, %#v and %d included (String
// alone covers only %v, %s, %q and %x).
func (k Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue hides the secret from slog at any verbosity.
func (k Key) LogValue() slog.Value { return slog.StringValue("redacted") }

// derive returns the key for one purpose, so that a proof made for one
// purpose is never valid for another.
func (k Key) derive(label string) Key {
	return Key{b: k.mac([]byte("parley derive\x00" + label))}
}

// mac returns HMAC-SHA256(k, parts joined by NUL).
func (k Key) mac(parts ...[]byte) []byte {
	h := hmac.New(sha256.New, k.b)
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write(p)
	}
	return h.Sum(nil)
}

// sum is mac over strings, base64url-encoded.
func (k Key) sum(parts ...string) string {
	bs := make([][]byte, len(parts))
	for i, p := range parts {
		bs[i] = []byte(p)
	}
	return base64.RawURLEncoding.EncodeToString(k.mac(bs...))
}

// ClientKey returns the key of the external client called name (a bot, a
// routing or a reporting client): the deployment key derived for it, which
// `parley client-key` prints for the client's operator. Removing the client
// from the deployment file revokes it.
func (k Key) ClientKey(name string) Key { return k.derive("client\x00" + name) }

// AdminToken returns the admin credential of the deployment, sent as
// "Authorization: Bearer <token>" to /admin/*, /kpi and /metrics
// (`parley admin-token` prints it).
func (k Key) AdminToken() string {
	return base64.RawURLEncoding.EncodeToString(k.derive("admin-token").b)
}

// Encode returns the key in the text form ParseKey reads, for a client's
// operator. It is the secret itself: never log it.
func (k Key) Encode() string { return base64.RawURLEncoding.EncodeToString(k.b) }

// ParseKey reads a key in the form Encode writes.
func ParseKey(s string) (Key, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Key{}, fmt.Errorf("auth: key: %w", err)
	}
	return NewKey(b)
}

// NonceSize is the size of a challenge nonce before encoding, in bytes.
const NonceSize = 32

// NewNonce returns a fresh random nonce, base64url-encoded.
func NewNonce() string {
	b := make([]byte, NonceSize)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// equal compares two proofs in constant time.
func equal(a, b string) bool { return hmac.Equal([]byte(a), []byte(b)) }

// errNoKey is why a proof cannot be made or checked without a key.
var errNoKey = errors.New("auth: no deployment key")

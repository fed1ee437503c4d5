package chatserver

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// randomHex returns n random bytes as hex. crypto/rand never fails on the
// platforms Go supports, so neither does this.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newSessionID returns a session (and interaction) id: 16 upper-case hex
// characters, the length of Genesys ids.
func newSessionID() string { return strings.ToUpper(randomHex(8)) }

// newPartyID returns a userId: 16 upper-case hex characters.
func newPartyID() string { return strings.ToUpper(randomHex(8)) }

// newSecureKey returns a client's secureKey: 128 random bits.
func newSecureKey() string { return randomHex(16) }

// hashKey is what the session keeps of a secure key.
func hashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// keyMatches compares a presented key with the kept hash in constant time.
func keyMatches(hash, key string) bool {
	got := hashKey(key)
	return subtle.ConstantTimeCompare([]byte(hash), []byte(got)) == 1
}

package chatserver

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
)

// randomHex returns n random bytes as hex. crypto/rand never fails on the
// platforms Go supports, so neither does this.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newSessionID returns a session (and interaction) id: 16 upper-case hex
// characters, the length of Genesys ids. The first ten are the creation time
// in milliseconds (modulo 2^40), the last six random, so that ids sort
// roughly by creation: the store's indexes on the id then grow at their
// right edge, and the pages a busy chat server writes stay few and cached,
// however many sessions the store holds. A clash within one millisecond is
// caught where the session is registered, and the id drawn again.
func newSessionID(now time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(now.UnixMilli())<<24)
	rand.Read(b[5:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// newPartyID returns a userId: 16 upper-case hex characters.
func newPartyID() string { return strings.ToUpper(randomHex(8)) }

// newSecureKey returns a client's secureKey: 128 random bits.
func newSecureKey() string { return randomHex(16) }

// hashKey is what the session keeps of a secure key.
func hashKey(key string) string { return string(appendKeyHash(nil, key)) }

// appendKeyHash appends the hex SHA-256 of key to b.
func appendKeyHash(b []byte, key string) []byte {
	h := sha256.Sum256([]byte(key))
	return hex.AppendEncode(b, h[:])
}

// keyMatches compares a presented key with the kept hash in constant time.
// It checks every request of a client, so it hashes into a stack buffer.
func keyMatches(hash, key string) bool {
	var buf [2 * sha256.Size]byte
	got := appendKeyHash(buf[:0], key)
	return subtle.ConstantTimeCompare(got, []byte(hash)) == 1
}

// newIncarnation returns the id of a chat server process: 64 random bits,
// so that a restarted process never takes its predecessor's.
func newIncarnation() string { return randomHex(8) }

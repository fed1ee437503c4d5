package contact

import (
	"crypto/rand"
	"encoding/binary"
	"time"
)

// idDigits are the digits of a contact id, in byte order, so that ids
// compare as the numbers they write.
const idDigits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewID returns a new contact id: 16 letters and digits, as the Genesys
// UCS's ids are, the first 8 the creation time in milliseconds (base 62,
// enough for 6,900 years) and the last 8 random (47 bits). Ids in creation
// order make a store add each new contact, and its interactions' index
// entries, at the end of its indexes, where one page takes the contacts of
// many chats, instead of on a random page for each: a chat server creates a
// contact for most chats.
func NewID() string {
	var b [16]byte
	putBase62(b[:8], uint64(time.Now().UnixMilli()))
	var r [8]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails
	putBase62(b[8:], binary.LittleEndian.Uint64(r[:]))
	return string(b[:])
}

// putBase62 writes n into b in base 62, most significant digit first,
// keeping the lowest len(b) digits.
func putBase62(b []byte, n uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = idDigits[n%62]
		n /= 62
	}
}

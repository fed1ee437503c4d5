package ixn

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// An agent's PasswordHash is "pbkdf2-sha256$<iterations>$<salt>$<key>": key
// is PBKDF2 with HMAC-SHA-256 (RFC 8018) of the password, salt and key in
// unpadded standard base64. The hash carries its own salt and cost, so that
// a deployment can raise the cost agent by agent.
const (
	passwordScheme = "pbkdf2-sha256"
	// PasswordIterations is the iteration count of NewPasswordHash: OWASP's
	// recommendation for PBKDF2-HMAC-SHA256 (2023).
	PasswordIterations = 600_000
	// MinPasswordIterations and MaxPasswordIterations bound a hash's count:
	// tests use the minimum (RFC 8018's), and the maximum keeps one login
	// (which holds the interaction server) to seconds.
	MinPasswordIterations = 1_000
	MaxPasswordIterations = 10_000_000
	// MinPasswordSalt is the shortest salt, in bytes (NIST SP 800-132).
	MinPasswordSalt = 16
	passwordKeyLen  = sha256.Size
)

var b64 = base64.RawStdEncoding

// NewPasswordHash returns the PasswordHash of password with a random salt
// and iterations (PasswordIterations unless logins must cost less). It
// panics as HashPassword does.
func NewPasswordHash(password string, iterations int) string {
	return HashPassword(password, rand.Text(), iterations)
}

// HashPassword returns the PasswordHash of password with salt and
// iterations. It panics if salt is shorter than MinPasswordSalt or
// iterations is outside [MinPasswordIterations, MaxPasswordIterations].
func HashPassword(password, salt string, iterations int) string {
	if len(salt) < MinPasswordSalt || iterations < MinPasswordIterations || iterations > MaxPasswordIterations {
		panic(fmt.Sprintf("ixn: HashPassword: salt of %d bytes, %d iterations", len(salt), iterations))
	}
	key := passwordKey(password, []byte(salt), iterations)
	return strings.Join([]string{passwordScheme, strconv.Itoa(iterations), b64.EncodeToString([]byte(salt)), b64.EncodeToString(key)}, "$")
}

// passwordKey cannot fail: the salt, key length and hash are ones that even
// FIPS 140-only mode accepts.
func passwordKey(password string, salt []byte, iterations int) []byte {
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, passwordKeyLen)
	if err != nil {
		panic("ixn: pbkdf2: " + err.Error())
	}
	return key
}

// passwordHash is a parsed PasswordHash.
type passwordHash struct {
	iterations int
	salt, key  []byte
}

func parsePasswordHash(h string) (passwordHash, error) {
	parts := strings.Split(h, "$")
	var p passwordHash
	var err error
	if len(parts) == 4 && parts[0] == passwordScheme {
		p.iterations, err = strconv.Atoi(parts[1])
		if err == nil {
			p.salt, err = b64.DecodeString(parts[2])
		}
		if err == nil {
			p.key, err = b64.DecodeString(parts[3])
		}
	}
	if len(parts) != 4 || parts[0] != passwordScheme || err != nil || len(p.salt) < MinPasswordSalt ||
		len(p.key) != passwordKeyLen || p.iterations < MinPasswordIterations || p.iterations > MaxPasswordIterations {
		return passwordHash{}, fmt.Errorf("%w: password hash: want %s$<%d-%d iterations>$<base64 salt of %d bytes or more>$<base64 key of %d bytes>",
			ErrInvalid, passwordScheme, MinPasswordIterations, MaxPasswordIterations, MinPasswordSalt, passwordKeyLen)
	}
	return p, nil
}

// CheckPasswordHash reports whether h is a well-formed PasswordHash. The
// "sha256:" hashes of earlier versions are refused: agents live in the
// deployment file, where a new hash replaces each (parley hash-password).
func CheckPasswordHash(h string) error {
	_, err := parsePasswordHash(h)
	return err
}

// verify reports whether password is the agent's, comparing in constant
// time.
func (a *AgentConfig) verify(password string) bool {
	p, err := parsePasswordHash(a.PasswordHash)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(passwordKey(password, p.salt, p.iterations), p.key) == 1
}

// decoyAgent is an agent no password opens, whose hash costs the most
// iterations any of agents has:
// Authenticate verifies it for an unknown agent, so that an unknown agent
// takes as long to refuse as a known one.
func decoyAgent(agents []AgentConfig) AgentConfig {
	iterations := 0
	for _, a := range agents {
		if p, err := parsePasswordHash(a.PasswordHash); err == nil {
			iterations = max(iterations, p.iterations)
		}
	}
	if iterations == 0 {
		iterations = MinPasswordIterations // no agent: no agent to tell apart
	}
	// A random key, not a hash of anything: no password matches it, and
	// making it costs no PBKDF2.
	salt, key := make([]byte, MinPasswordSalt), make([]byte, passwordKeyLen)
	rand.Read(salt)
	rand.Read(key)
	h := strings.Join([]string{passwordScheme, strconv.Itoa(iterations), b64.EncodeToString(salt), b64.EncodeToString(key)}, "$")
	return AgentConfig{PasswordHash: h}
}

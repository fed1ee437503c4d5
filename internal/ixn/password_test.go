package ixn

import (
	"errors"
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h := HashPassword("secret", "pepper-pepper-pepper", MinPasswordIterations)
	if err := CheckPasswordHash(h); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "pbkdf2-sha256$1000$cGVwcGVyLXBlcHBlci1wZXBwZXI$") {
		t.Errorf("hash %q does not carry its scheme, count and salt", h)
	}
	a := AgentConfig{PasswordHash: h}
	if !a.verify("secret") || a.verify("Secret") || a.verify("") || a.verify("secret ") {
		t.Error("verify accepts a wrong password or refuses the right one")
	}
	// The same password with another salt or count is another hash, and
	// each verifies with what it carries.
	for _, other := range []string{HashPassword("secret", "pepper-pepper-peppeR", MinPasswordIterations),
		HashPassword("secret", "pepper-pepper-pepper", MinPasswordIterations+1)} {
		if other == h || !(&AgentConfig{PasswordHash: other}).verify("secret") {
			t.Errorf("%q against %q", other, h)
		}
	}
}

// TestNewPasswordHash checks the count and salt of a production hash
// (one derivation: it costs a login's time).
func TestNewPasswordHash(t *testing.T) {
	h := NewPasswordHash("alice", PasswordIterations)
	p, err := parsePasswordHash(h)
	if err != nil || p.iterations != PasswordIterations || len(p.salt) < 26 {
		t.Errorf("NewPasswordHash = %q (%+v, %v), want %d iterations and rand.Text's salt", h, p, err, PasswordIterations)
	}
}

func TestCheckPasswordHash(t *testing.T) {
	good := HashPassword("x", "0123456789abcdef", MinPasswordIterations)
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	for _, bad := range []string{
		"", "plain", "sha256:" + strings.Repeat("0", 64), // the unsalted, fast format of earlier versions
		with(0, "pbkdf2-sha1"), with(1, "999"), with(1, "10000001"), with(1, "x"),
		with(2, "c2hvcnQ"), with(2, "!"), with(3, parts[3][:20]), with(3, "!"), good + "$",
	} {
		if err := CheckPasswordHash(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckPasswordHash(%q) = %v, want ErrInvalid", bad, err)
		}
		if (&AgentConfig{PasswordHash: bad}).verify("x") {
			t.Errorf("%q verifies", bad)
		}
	}
}

func TestHashPasswordPanics(t *testing.T) {
	for _, tt := range []struct {
		salt       string
		iterations int
	}{{"short", MinPasswordIterations}, {"0123456789abcdef", MinPasswordIterations - 1}, {"0123456789abcdef", MaxPasswordIterations + 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("HashPassword with salt %q, %d iterations did not panic", tt.salt, tt.iterations)
				}
			}()
			HashPassword("x", tt.salt, tt.iterations)
		}()
	}
}

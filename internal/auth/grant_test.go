package auth

import (
	"encoding/base64"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// grantNow is the clock of the grant tests and of the fuzz corpus: the
// checked-in valid tokens expire after it.
var grantNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func testGrant() Grant {
	return Grant{Agent: "agent7", Session: "s-123", PartyType: "Agent", Visibility: "ALL",
		Expires: grantNow.Add(DefaultGrantTTL)}
}

func TestGrantRoundTrip(t *testing.T) {
	k := testKey(t, secret)
	g := testGrant()
	g.Expires = g.Expires.Add(1234567 * time.Nanosecond) // below the millisecond: dropped
	token := k.SignGrant(g)
	got, err := k.VerifyGrant(token, grantNow)
	if err != nil {
		t.Fatalf("VerifyGrant = %v", err)
	}
	want := testGrant()
	want.Expires = g.Expires.Truncate(time.Millisecond)
	if got.Agent != want.Agent || got.Session != want.Session || got.PartyType != want.PartyType ||
		got.Visibility != want.Visibility || !got.Expires.Equal(want.Expires) {
		t.Fatalf("VerifyGrant = %+v, want %+v", got, want)
	}
	if k.SignGrant(got) != token {
		t.Fatal("a verified grant does not re-sign to its token")
	}
}

func TestVerifyGrantRefuses(t *testing.T) {
	k := testKey(t, secret)
	token := k.SignGrant(testGrant())
	payload, sig, _ := strings.Cut(token, ".")
	forged := func(body string) string { // a payload signed by k that is not a grant
		p := base64.RawURLEncoding.EncodeToString([]byte(body))
		return p + "." + k.derive("grant").sum(p)
	}
	otherPayload := func() string {
		g := testGrant()
		g.Session = "s-999"
		p, _, _ := strings.Cut(k.SignGrant(g), ".")
		return p
	}()
	tests := []struct {
		name  string
		key   Key
		token string
		now   time.Time
		want  error
	}{
		{"expired", k, token, grantNow.Add(DefaultGrantTTL), ErrGrantExpired},
		{"long expired", k, token, grantNow.Add(24 * time.Hour), ErrGrantExpired},
		{"zero expiry", k, k.SignGrant(Grant{Agent: "a", Session: "s"}), grantNow, ErrGrantExpired},
		{"other key", testKey(t, otherSecret), token, grantNow, ErrGrantInvalid},
		{"client key", k.ClientKey("agent7"), token, grantNow, ErrGrantInvalid},
		{"zero key", Key{}, token, grantNow, ErrGrantInvalid},
		{"payload swapped", k, otherPayload + "." + sig, grantNow, ErrGrantInvalid},
		{"payload altered", k, flip(payload, 3) + "." + sig, grantNow, ErrGrantInvalid},
		{"signature altered", k, payload + "." + flip(sig, 5), grantNow, ErrGrantInvalid},
		{"signature cut", k, payload + "." + sig[:len(sig)-1], grantNow, ErrGrantInvalid},
		{"signature padded", k, token + "=", grantNow, ErrGrantInvalid},
		{"no signature", k, payload, grantNow, ErrGrantInvalid},
		{"empty signature", k, payload + ".", grantNow, ErrGrantInvalid},
		{"signature of the admin token", k, payload + "." + k.AdminToken(), grantNow, ErrGrantInvalid},
		{"empty", k, "", grantNow, ErrGrantInvalid},
		{"dot", k, ".", grantNow, ErrGrantInvalid},
		{"garbage", k, "not a grant", grantNow, ErrGrantInvalid},
		{"signed non-base64", k, "!!!." + k.derive("grant").sum("!!!"), grantNow, ErrGrantInvalid},
		{"signed non-JSON", k, forged("agent7"), grantNow, ErrGrantInvalid},
		{"signed wrong types", k, forged(`{"agent":7,"exp":"soon"}`), grantNow, ErrGrantInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := tt.key.VerifyGrant(tt.token, tt.now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyGrant = %+v, %v; want %v", g, err, tt.want)
			}
			if g != (Grant{}) {
				t.Fatalf("a refused grant came back as %+v", g)
			}
		})
	}
}

// flip returns s with its i-th character changed to another base64url one.
func flip(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

func TestGrantCheck(t *testing.T) {
	g := testGrant()
	monitor := g
	monitor.PartyType, monitor.Visibility = "Supervisor", "INT"
	tests := []struct {
		name                                  string
		grant                                 Grant
		session, agent, partyType, visibility string
		want                                  error
	}{
		{"match", g, "s-123", "agent7", "Agent", "ALL", nil},
		{"the grant's own visibility", g, "s-123", "agent7", "Agent", "", nil},
		{"monitoring supervisor", monitor, "s-123", "agent7", "Supervisor", "INT", nil},
		{"another session", g, "s-124", "agent7", "Agent", "ALL", ErrGrantMismatch},
		{"another agent", g, "s-123", "agent8", "Agent", "ALL", ErrGrantMismatch},
		{"another party type", g, "s-123", "agent7", "Supervisor", "ALL", ErrGrantMismatch},
		{"more visibility", monitor, "s-123", "agent7", "Supervisor", "ALL", ErrGrantMismatch},
		{"other visibility", g, "s-123", "agent7", "Agent", "INT", ErrGrantMismatch},
		{"empty session", g, "", "agent7", "Agent", "ALL", ErrGrantMismatch},
		{"empty agent", g, "s-123", "", "Agent", "ALL", ErrGrantMismatch},
		{"session differs in case", g, "S-123", "agent7", "Agent", "ALL", ErrGrantMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.grant.Check(tt.session, tt.agent, tt.partyType, tt.visibility); !errors.Is(err, tt.want) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
		})
	}
}

// FuzzVerifyGrant checks that VerifyGrant never panics, refuses with its
// own errors only, and that a token it accepts is the one SignGrant makes
// of the grant (no second form of a signed grant).
func FuzzVerifyGrant(f *testing.F) {
	k, err := NewKey([]byte(secret))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(k.SignGrant(testGrant()))
	f.Add("")
	f.Add(".")
	f.Fuzz(func(t *testing.T, token string) {
		g, err := k.VerifyGrant(token, grantNow)
		switch {
		case err == nil:
			if again := k.SignGrant(g); again != token {
				t.Fatalf("token %q verifies but re-signs to %q", token, again)
			}
		case errors.Is(err, ErrGrantInvalid), errors.Is(err, ErrGrantExpired):
		default:
			t.Fatalf("VerifyGrant(%q) = %v", token, err)
		}
	})
}

// TestGrantCorpusValid keeps the fuzz corpus's valid token valid, so that
// the fuzzer starts from a grant that verifies.
func TestGrantCorpusValid(t *testing.T) {
	b, err := os.ReadFile("testdata/fuzz/FuzzVerifyGrant/valid")
	if err != nil {
		t.Fatal(err)
	}
	_, quoted, _ := strings.Cut(strings.TrimSpace(string(b)), "string(")
	token, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testKey(t, secret).VerifyGrant(token, grantNow); err != nil {
		t.Fatalf("corpus token: %v", err)
	}
}

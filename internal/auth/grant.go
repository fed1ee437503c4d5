package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Errors of VerifyGrant and Grant.Check; the chat server answers each with
// its own wire code.
var (
	// ErrGrantInvalid: no grant, a malformed one, or one signed with another key.
	ErrGrantInvalid = errors.New("auth: invalid grant")
	// ErrGrantExpired: the grant's expiry has passed.
	ErrGrantExpired = errors.New("auth: grant expired")
	// ErrGrantMismatch: the grant is for another session, agent, party type or visibility.
	ErrGrantMismatch = errors.New("auth: grant does not match")
)

// DefaultGrantTTL is how long a grant stays valid: long enough for the
// desktop to join the chat it accepted, short enough that a grant seen later
// is useless.
const DefaultGrantTTL = 2 * time.Minute

// Grant is what the interaction server signs when it gives an agent an
// interaction: that agent may join that chat session, as that party type,
// with at most that visibility, until Expires.
type Grant struct {
	Agent      string
	Session    string
	PartyType  string // Agent or Supervisor
	Visibility string // ALL, or INT for a monitoring supervisor
	Expires    time.Time
}

// claims is a Grant as its token carries it, the expiry in Unix ms.
type claims struct {
	Agent      string `json:"agent"`
	Session    string `json:"session"`
	PartyType  string `json:"type"`
	Visibility string `json:"visibility"`
	Expires    int64  `json:"exp"`
}

// SignGrant returns g as a token: its base64url JSON, a dot, and its
// signature by the deployment key's grant key.
func (k Key) SignGrant(g Grant) string {
	body, _ := json.Marshal(claims{g.Agent, g.Session, g.PartyType, g.Visibility, g.Expires.UnixMilli()}) // cannot fail
	payload := base64.RawURLEncoding.EncodeToString(body)
	return payload + "." + k.derive("grant").sum(payload)
}

// VerifyGrant returns the grant token carries when k signed it and it has
// not expired at now: ErrGrantInvalid or ErrGrantExpired otherwise.
func (k Key) VerifyGrant(token string, now time.Time) (Grant, error) {
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || k.Zero() || !equal(sig, k.derive("grant").sum(payload)) {
		return Grant{}, ErrGrantInvalid
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	var c claims
	if err != nil || json.Unmarshal(body, &c) != nil {
		return Grant{}, ErrGrantInvalid
	}
	g := Grant{Agent: c.Agent, Session: c.Session, PartyType: c.PartyType, Visibility: c.Visibility, Expires: time.UnixMilli(c.Expires)}
	if !now.Before(g.Expires) {
		return Grant{}, ErrGrantExpired
	}
	return g, nil
}

// Check returns ErrGrantMismatch unless g lets agent join session as
// partyType with visibility; an empty visibility asks for the grant's own.
func (g Grant) Check(session, agent, partyType, visibility string) error {
	if g.Session != session || g.Agent != agent || g.PartyType != partyType {
		return ErrGrantMismatch
	}
	if visibility != "" && visibility != g.Visibility {
		return ErrGrantMismatch
	}
	return nil
}

package ixn

import (
	"errors"
	"testing"
)

// TestUnknownAgentCostsTheSame checks that Authenticate verifies, for an
// unknown agent, a hash of the same cost as the known agents' (the work a
// refusal takes does not tell which agents exist), which no password opens.
func TestUnknownAgentCostsTheSame(t *testing.T) {
	e, err := New(Config{Agents: []AgentConfig{
		{ID: "alice", PasswordHash: NewPasswordHash("alice", MinPasswordIterations)},
		{ID: "bob", PasswordHash: NewPasswordHash("bob", 2*MinPasswordIterations)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := parsePasswordHash(e.decoy.PasswordHash)
	if err != nil || p.iterations != 2*MinPasswordIterations {
		t.Fatalf("decoy hash %q (%v): want %d iterations, bob's", e.decoy.PasswordHash, err, 2*MinPasswordIterations)
	}
	for _, pw := range []string{"", "alice", "bob", "decoy"} {
		if e.decoy.verify(pw) {
			t.Errorf("the decoy opens with %q", pw)
		}
		if _, err := e.Authenticate("mallory", pw); !errors.Is(err, ErrLoginFailed) {
			t.Errorf("unknown agent with %q: %v", pw, err)
		}
	}
}

package ixnserver_test

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// TestLoginBackoff fails alice's password past the free failures: her
// right password is then refused (2105) until the backoff has passed, and
// an unknown agent id is throttled the same way; bob is not slowed.
func TestLoginBackoff(t *testing.T) { eachBackend(t, testLoginBackoff) }

func testLoginBackoff(t *testing.T, b backend) {
	h := b.start(t, defaultOptions(t))
	for _, agent := range []string{"alice", "mallory"} {
		c := h.register("desk-"+agent, "agent")
		for range 4 { // three free failures, then a second's backoff
			c.fails(wire.RequestAgentLogin, map[string]string{"agentId": agent, "password": "guess"}, wire.CodeLoginFailed)
		}
		c.fails(wire.RequestAgentLogin, map[string]string{"agentId": agent, "password": agent}, wire.CodeLoginFailed)
	}
	h.agent("bob") // another agent logs in at once
	h.clock.Advance(time.Second)
	h.register("desk-alice-2", "agent").ok(wire.RequestAgentLogin, map[string]string{"agentId": "alice", "password": "alice"})
}

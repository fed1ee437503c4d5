package ixn

import (
	"slices"
	"testing"
	"time"
)

// With not-ready-on-invitation-timeout an agent that lets an invitation
// time out becomes not ready and is not invited again; without it, it is.
func TestNotReadyOnInvitationTimeout(t *testing.T) {
	for _, on := range []bool{false, true} {
		f := newFixture(t, agentCfg("alice", 1, ""))
		f.e.cfg.NotReadyOnInvitationTimeout = on
		f.e.cfg.RerouteExclude = 0
		f.login("alice")
		f.submit("i1", "default", nil)
		f.now = f.now.Add(31 * time.Second)
		o := f.e.Tick(f.now)
		a, _ := f.e.Agent("alice")
		if a.Ready == on || on && a.Reason != "invitation timeout" {
			t.Errorf("on=%v: agent after the timeout %+v", on, a)
		}
		if got := slices.Contains(names(o), "EventAgentNotAvailable"); got != on {
			t.Errorf("on=%v: EventAgentNotAvailable reported %v", on, got)
		}
		if reinvited := len(invites(o, "alice")) > 0; reinvited == on {
			t.Errorf("on=%v: invited again %v", on, reinvited)
		}
	}
}

package stat

import (
	"maps"
	"slices"
	"time"
)

// Overview is the interaction server's state at a (re)connection: its
// logged-in agents, whether each is ready, and the interactions waiting in
// its queues without an invitation.
type Overview struct {
	Agents  map[string]bool // logged-in agent id -> ready
	Waiting []string        // interaction ids
}

// Reconcile brings the agents' states in line with ov at now: an
// interaction server that restarted logged every agent out and dropped
// every invitation without a reporting event. An agent not in ov is logged
// out (its chats stay: the server keeps them for its reconnection); one in
// ov gets its ready state; an invitation to a waiting interaction ends.
// Each change counts as the event would have.
func (e *Engine) Reconcile(ov Overview, now time.Time) {
	for _, id := range slices.Sorted(maps.Keys(e.agents)) {
		ready, in := ov.Agents[id]
		if !in {
			for _, a := range []Action{WaitForNextCall, NotReadyForNextCall, LoggedIn} {
				e.endAgent(id, a, "", now)
			}
			continue
		}
		e.setReady(id, ready, now)
	}
	for _, id := range slices.Sorted(maps.Keys(ov.Agents)) {
		if _, known := e.agents[id]; !known {
			e.setReady(id, ov.Agents[id], now)
		}
	}
	for _, ixn := range ov.Waiting {
		if st := e.ixns[ixn]; st != nil && st.invitedAgent != "" {
			e.endAgent(st.invitedAgent, CallRinging, ixn, now)
			st.invitedAgent, st.invitedFrom = "", ""
		}
	}
}

// setReady makes a logged-in agent ready or not ready, unless it is so.
func (e *Engine) setReady(agent string, ready bool, now time.Time) {
	e.startAgent(agent, LoggedIn, "", now)
	on, off := WaitForNextCall, NotReadyForNextCall
	if !ready {
		on, off = off, on
	}
	e.endAgent(agent, off, "", now)
	e.startAgent(agent, on, "", now)
}

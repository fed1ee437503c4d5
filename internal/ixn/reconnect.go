package ixn

import (
	"maps"
	"slices"
	"time"
)

// Agent continuity: the interactions an agent holds stay with it while it
// is logged out (its desktop's connection dropped, its web API or the
// primary interaction server died) for AgentReconnectTimeout, so that its
// next login gets them back (Held); an agent that does not come back in
// time leaves them, and they are routed again.

// Held returns copies of the interactions agent holds, by id: what its
// desktop rejoins after a login.
func (e *Engine) Held(agent string) []Interaction {
	var out []Interaction
	for _, id := range slices.Sorted(maps.Keys(e.ixns)) {
		if in := e.ixns[id]; in.holds(agent) {
			out = append(out, in.clone())
		}
	}
	return out
}

// countHeld returns how many interactions agent holds.
func (e *Engine) countHeld(agent string) int {
	n := 0
	for _, in := range e.ixns {
		if in.holds(agent) {
			n++
		}
	}
	return n
}

// awaitReturn gives agent, logged out while holding interactions, until
// now+AgentReconnectTimeout to log in again; with no timeout it keeps them
// until it leaves them.
func (e *Engine) awaitReturn(now time.Time, a *Agent) {
	if a.held > 0 && e.cfg.AgentReconnectTimeout > 0 {
		e.away[a.ID] = now.Add(e.cfg.AgentReconnectTimeout)
	}
}

// releaseAway makes every agent whose time to come back has passed at now
// leave the interactions it holds; those left without an agent go back to
// their queue.
func (e *Engine) releaseAway(now time.Time) {
	for _, agent := range slices.Sorted(maps.Keys(e.away)) {
		if now.Before(e.away[agent]) {
			continue
		}
		delete(e.away, agent)
		if a := e.agents[agent]; a == nil || a.LoggedIn {
			continue
		}
		for _, id := range slices.Sorted(maps.Keys(e.ixns)) {
			in := e.ixns[id]
			if !in.holds(agent) {
				continue
			}
			e.release(now, in, agent)
			if len(in.Agents) == 0 {
				e.revoke(now, in, "agent did not come back")
				e.requeue(now, in, in.Queue, "agent did not come back")
			}
		}
	}
}

// earliestAway returns the earliest time an away agent's interactions are
// released.
func (e *Engine) earliestAway() (t time.Time, ok bool) {
	for _, until := range e.away {
		if !ok || until.Before(t) {
			t, ok = until, true
		}
	}
	return t, ok
}

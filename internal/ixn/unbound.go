package ixn

import (
	"slices"
	"time"
)

// Back-off of an interaction whose chat could not be joined: the first
// failed join holds it back from routing for unboundFirst, each further one
// twice as long, up to unboundMax.
const (
	unboundFirst = time.Second
	unboundMax   = 2 * time.Minute
)

// PropChatServerApplication is the property naming the chat server that
// holds an interaction's chat; setting it (a chat server that restored the
// chat says where it lives now) ends the back-off of LeaveUnjoined.
const PropChatServerApplication = "ChatServerApplication"

// unbound is the back-off of one interaction whose chat could not be
// joined: until when routing skips it, how many joins failed in a row, and
// the agents kept away from it for that reason.
type unbound struct {
	until  time.Time
	fails  int
	agents []string
}

// LeaveUnjoined gives back interaction id, which agent accepted but whose
// chat it could not join (the chat is not on the chat server the
// interaction names: the server died, or the chat moved). Like
// LeaveInteraction the agent leaves it, and it goes back to its queue when
// no agent holds it; besides, the agent is not invited to it again for
// RerouteExclude, and routing skips the interaction for a back-off that
// doubles with each failed join in a row (1 s up to 2 min), so that a chat
// nobody can join is never offered in a loop. A change of its
// ChatServerApplication property (the chat was restored) ends the back-off
// and the exclusions it made: routing resumes at once.
func (e *Engine) LeaveUnjoined(now time.Time, agent, id string) (Output, error) {
	in, _, err := e.holder(agent, id)
	if err != nil {
		return Output{}, err
	}
	e.begin()
	e.release(now, in, agent)
	if e.cfg.RerouteExclude > 0 {
		e.excluded[exclusion{in.ID, agent}] = now.Add(e.cfg.RerouteExclude)
	}
	if len(in.Agents) == 0 {
		e.revoke(now, in, "left")
		e.requeue(now, in, in.Queue, "chat not joined")
		e.backOff(now, in.ID, agent)
	}
	e.route(now)
	return e.finish(), nil
}

// backOff holds interaction id back from routing after a failed join by agent.
func (e *Engine) backOff(now time.Time, id, agent string) {
	if e.unbound == nil {
		e.unbound = map[string]*unbound{}
	}
	u := e.unbound[id]
	if u == nil {
		u = &unbound{}
		e.unbound[id] = u
	}
	wait := min(unboundFirst<<min(u.fails, 16), unboundMax)
	u.fails++
	u.until = now.Add(wait)
	if !slices.Contains(u.agents, agent) {
		u.agents = append(u.agents, agent)
	}
}

// heldBack reports whether routing must skip in for now.
func (e *Engine) heldBack(in *Interaction, now time.Time) bool {
	u := e.unbound[in.ID]
	return u != nil && !u.until.IsZero() && now.Before(u.until)
}

// relocated ends the back-off of interaction id and the exclusions it made:
// its chat server says where its chat lives now.
func (e *Engine) relocated(id string) {
	u := e.unbound[id]
	if u == nil {
		return
	}
	for _, a := range u.agents {
		delete(e.excluded, exclusion{id, a})
	}
	delete(e.unbound, id)
}

// unboundDeadlines calls earliest with the end of every back-off still
// running.
func (e *Engine) unboundDeadlines(earliest func(time.Time)) {
	for _, u := range e.unbound {
		if !u.until.IsZero() {
			earliest(u.until)
		}
	}
}

// expireUnbound ends the back-offs due at now; their count of failed joins
// stays, so that the next failure waits longer.
func (e *Engine) expireUnbound(now time.Time) {
	for _, u := range e.unbound {
		if !now.Before(u.until) {
			u.until = time.Time{}
		}
	}
}

package ixn

import (
	"maps"
	"slices"
	"time"
)

// QueueOverview is one queue as a supervisor sees it.
type QueueOverview struct {
	Name    string  `json:"name"`
	Routing Routing `json:"routing"`
	// Waiting is how many interactions wait in the queue without an
	// invitation.
	Waiting int `json:"waiting"`
	// OldestWait is how long, in whole seconds, the first of them has
	// waited; zero when none waits.
	OldestWait int `json:"oldestWait"`
	// Interactions are the waiting interactions' ids in QueuePosition order.
	Interactions []string `json:"interactions"`
}

// AgentOverview is one logged-in agent as a supervisor sees it.
type AgentOverview struct {
	ID       string `json:"agentId"`
	Place    string `json:"place"`
	Ready    bool   `json:"ready"`
	Reason   string `json:"reason,omitempty"` // why not ready
	Load     int    `json:"load"`             // chats held and invitations pending
	Capacity int    `json:"capacity"`
	// IdleFor is how long, in whole seconds, since the agent last got an
	// invitation or became ready.
	IdleFor int `json:"idleFor"`
	Workbin int `json:"workbin"` // interactions in its workbins
}

// Overview is the supervisor's view of the engine: every queue and every
// logged-in agent, each sorted by name.
type Overview struct {
	Queues []QueueOverview `json:"queues"`
	Agents []AgentOverview `json:"agents"`
}

// Overview returns the queues with their waiting interactions and the
// logged-in agents with their state, as of now. It changes nothing.
func (e *Engine) Overview(now time.Time) Overview {
	ov := Overview{Queues: []QueueOverview{}, Agents: []AgentOverview{}}
	for _, name := range slices.Sorted(maps.Keys(e.queues)) {
		ov.Queues = append(ov.Queues, e.queueOverview(now, e.queues[name]))
	}
	binned := e.workbinCounts()
	for _, id := range slices.Sorted(maps.Keys(e.agents)) {
		if a := e.agents[id]; a.LoggedIn {
			ov.Agents = append(ov.Agents, agentOverview(now, a, binned[id]))
		}
	}
	return ov
}

// queueOverview summarises the waiting interactions of q.
func (e *Engine) queueOverview(now time.Time, q Queue) QueueOverview {
	qo := QueueOverview{Name: q.Name, Routing: q.Routing, Interactions: []string{}}
	waiting := e.waiting(q.Name)
	for _, in := range waiting {
		qo.Interactions = append(qo.Interactions, in.ID)
	}
	qo.Waiting = len(waiting)
	if len(waiting) > 0 {
		qo.OldestWait = seconds(now.Sub(waiting[0].PlacedAt))
	}
	return qo
}

// workbinCounts returns how many interactions each agent's workbins hold.
func (e *Engine) workbinCounts() map[string]int {
	n := map[string]int{}
	for _, in := range e.ixns {
		if in.State == StateInWorkbin {
			n[in.WorkbinOf]++
		}
	}
	return n
}

func agentOverview(now time.Time, a *Agent, workbin int) AgentOverview {
	return AgentOverview{ID: a.ID, Place: a.Place, Ready: a.Ready, Reason: a.Reason, Load: a.load(),
		Capacity: a.Capacity, IdleFor: seconds(now.Sub(a.IdleSince)), Workbin: workbin}
}

// seconds is d in whole seconds, never negative.
func seconds(d time.Duration) int { return int(max(d, 0) / time.Second) }

package ixn

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"time"
)

// route invites a free agent to each waiting interaction of every queue with
// built-in routing, oldest first, then publishes queue positions.
func (e *Engine) route(now time.Time) {
	for _, name := range slices.Sorted(maps.Keys(e.queues)) {
		q := e.queues[name]
		waiting := e.waiting(name)
		if q.Routing == RoutingBuiltin && e.anyFree() {
			for _, in := range waiting {
				if a := e.pick(in, now); a != nil {
					e.invite(now, in, a, "route", "")
				}
			}
			waiting = e.waiting(name)
		}
		e.publishPositions(now, name, waiting)
	}
}

// waiting returns the queued interactions of queue without an invitation or
// a lock, in the order they entered it.
func (e *Engine) waiting(queue string) []*Interaction {
	var w []*Interaction
	for _, in := range e.ixns {
		if in.State == StateQueued && in.Queue == queue && e.invites[in.ID] == nil && e.locks[in.ID] == "" {
			w = append(w, in)
		}
	}
	slices.SortFunc(w, func(a, b *Interaction) int {
		return cmp.Or(a.PlacedAt.Compare(b.PlacedAt), a.SubmittedAt.Compare(b.SubmittedAt), cmp.Compare(a.ID, b.ID))
	})
	return w
}

func (e *Engine) anyFree() bool {
	for _, a := range e.agents {
		if a.free() {
			return true
		}
	}
	return false
}

// pick returns the agent to invite to in, or nil: a free agent with the
// required skill, not excluded for in, idle the longest. An interaction
// woken from a workbin waits for its last agent while that agent is logged
// in, attempts remain and AsyncLastAgentTimeout has not passed (Tick ends
// the wait then).
func (e *Engine) pick(in *Interaction, now time.Time) *Agent {
	if e.heldBack(in, now) {
		return nil
	}
	if in.PreferAgent != "" && in.PreferAttempts > 0 {
		if a := e.agents[in.PreferAgent]; a != nil && a.LoggedIn {
			if a.free() && e.eligible(in, a, now) {
				return a
			}
			return nil
		}
	}
	var best *Agent
	for _, a := range e.agents {
		if !a.free() || !e.eligible(in, a, now) {
			continue
		}
		if best == nil || a.IdleSince.Before(best.IdleSince) || a.IdleSince.Equal(best.IdleSince) && a.ID < best.ID {
			best = a
		}
	}
	return best
}

// eligible reports whether a takes in's media, has the skill in requires
// and is not excluded.
func (e *Engine) eligible(in *Interaction, a *Agent, now time.Time) bool {
	if !a.takes(in.MediaType) {
		return false
	}
	if until, ok := e.excluded[exclusion{in.ID, a.ID}]; ok && now.Before(until) {
		return false
	}
	req, ok := in.Properties[e.cfg.SkillKey]
	if !ok || req == "" {
		return true
	}
	sk, err := ParseSkill(req)
	if err != nil {
		return false // checked when set; a restored bad value routes nowhere
	}
	level, has := a.Skills[sk.Name]
	return has && level >= sk.Level
}

// invite sends agent a the invitation to in.
func (e *Engine) invite(now time.Time, in *Interaction, a *Agent, kind, from string) {
	e.invites[in.ID] = &invitation{agent: a.ID, kind: kind, from: from, deadline: now.Add(e.cfg.InviteTimeout)}
	a.invited++
	a.IdleSince = now
	if kind == "route" || kind == "deliver" {
		in.State = StateRouting
	}
	e.save(in)
	e.notify("EventInvite", Body{InteractionID: in.ID, Queue: in.Queue, Kind: kind, From: from,
		Timeout: int(e.cfg.InviteTimeout / time.Second), Properties: cloneProps(in.Properties)}, false, Target{Agent: a.ID})
	e.report(now, "EventAgentInvited", Body{InteractionID: in.ID, AgentID: a.ID, Queue: in.Queue, Kind: kind, From: from})
}

// withdraw removes the pending invitation of in.
func (e *Engine) withdraw(in *Interaction) *invitation {
	inv := e.invites[in.ID]
	if inv == nil {
		return nil
	}
	delete(e.invites, in.ID)
	if a := e.agents[inv.agent]; a != nil {
		a.invited--
	}
	if in.State == StateRouting {
		in.State, in.Strategy = StateQueued, ""
	}
	e.save(in)
	return inv
}

// decline ends a pending invitation the agent rejected or let time out
// (reason "reject" or "timeout"), keeps the agent away from in for a while,
// and tells whoever asked for a transfer or conference.
func (e *Engine) decline(now time.Time, in *Interaction, inv *invitation, reason string) {
	e.withdraw(in)
	e.excluded[exclusion{in.ID, inv.agent}] = now.Add(e.cfg.RerouteExclude)
	if in.PreferAgent == inv.agent && in.PreferAttempts > 0 {
		in.PreferAttempts--
	}
	name := "EventRejected"
	if reason == "timeout" {
		name = "EventRevoked"
		e.notify("EventRevoked", Body{InteractionID: in.ID, Reason: reason}, false, Target{Agent: inv.agent})
		defer e.notReadyAfterTimeout(now, inv.agent)
	}
	if inv.from != "" {
		e.notify("EventRejected", Body{InteractionID: in.ID, AgentID: inv.agent, Kind: inv.kind, Reason: reason},
			false, Target{Agent: inv.from})
	}
	e.report(now, name, Body{InteractionID: in.ID, AgentID: inv.agent, Queue: in.Queue, Kind: inv.kind, Reason: reason})
}

// notReadyAfterTimeout makes agent not ready after it let an invitation
// time out, when not-ready-on-invitation-timeout asks for it.
func (e *Engine) notReadyAfterTimeout(now time.Time, agent string) {
	a, err := e.loggedIn(agent)
	if !e.cfg.NotReadyOnInvitationTimeout || err != nil || !a.Ready {
		return
	}
	a.Ready, a.Reason = false, "invitation timeout"
	body := Body{AgentID: a.ID, Place: a.Place, Reason: a.Reason}
	e.notify("EventAgentNotAvailable", body, false, Target{Agent: a.ID})
	e.notify("EventForcedAgentStateChange", body, false, Target{Agent: a.ID}) // the server changed it, not the agent
	e.report(now, "EventAgentNotAvailable", body)
}

// revoke ends the pending invitation of in for reason, telling the agent.
func (e *Engine) revoke(now time.Time, in *Interaction, reason string) {
	inv := e.withdraw(in)
	if inv == nil {
		return
	}
	e.notify("EventRevoked", Body{InteractionID: in.ID, Reason: reason}, false, Target{Agent: inv.agent})
	e.report(now, "EventRevoked", Body{InteractionID: in.ID, AgentID: inv.agent, Queue: in.Queue, Kind: inv.kind, Reason: reason})
}

// recordWait keeps the wait of a delivery from queue for its estimate.
func (e *Engine) recordWait(queue string, d time.Duration) {
	e.waits[queue] = keepRecent(e.waits[queue], d)
}

// recordHandle keeps, for its queue's estimate, how long the agents of in,
// which stops now, have held it since the last of them joined.
func (e *Engine) recordHandle(now time.Time, in *Interaction) {
	if len(in.Agents) == 0 || len(in.Parties) == 0 {
		return
	}
	e.handles[in.Queue] = keepRecent(e.handles[in.Queue], now.Sub(in.Parties[len(in.Parties)-1].Joined))
}

func keepRecent(w []time.Duration, d time.Duration) []time.Duration {
	w = append(w, d)
	if len(w) > recentWaits {
		w = w[len(w)-recentWaits:]
	}
	return w
}

// estimator returns the estimated wait, in whole seconds, of the
// interaction at position pos of queue: the queue's average handle time for
// it and each one ahead of it, shared among the chat capacity of the ready
// agents (at least one). Until a chat of the queue was handled, the average
// wait of its last deliveries stands in for the handle time.
func (e *Engine) estimator(queue string) func(pos int) int {
	each, ok := average(e.handles[queue])
	if !ok {
		each, _ = average(e.waits[queue])
	}
	seats := 0
	for _, a := range e.agents {
		if a.LoggedIn && a.Ready {
			seats += a.Capacity
		}
	}
	return func(pos int) int {
		total := each * time.Duration(pos) / time.Duration(max(seats, 1))
		return int((total + time.Second/2) / time.Second)
	}
}

func average(w []time.Duration) (time.Duration, bool) {
	if len(w) == 0 {
		return 0, false
	}
	var sum time.Duration
	for _, d := range w {
		sum += d
	}
	return sum / time.Duration(len(w)), true
}

// publishPositions sets QueuePosition and EstimatedWaitTime on the waiting
// interactions where they changed. These derived properties go to the
// interaction's followers but not to the reporting log.
func (e *Engine) publishPositions(now time.Time, queue string, waiting []*Interaction) {
	estimate := e.estimator(queue)
	for i, in := range waiting {
		pos, ewt := strconv.Itoa(i+1), strconv.Itoa(estimate(i+1))
		var changed []string
		for k, v := range map[string]string{PropQueuePosition: pos, PropEstimatedWaitTime: ewt} {
			if in.Properties[k] != v {
				in.Properties[k] = v
				changed = append(changed, k)
			}
		}
		if len(changed) > 0 {
			slices.Sort(changed)
			e.save(in)
			e.notify("EventPropertiesChanged", Body{InteractionID: in.ID, Properties: cloneProps(in.Properties),
				Changed: changed}, true, e.parties(in)...)
		}
	}
}

// checkViews runs the views whose check is due.
func (e *Engine) checkViews(now time.Time) {
	for _, name := range slices.Sorted(maps.Keys(e.views)) {
		v := e.views[name]
		if v.CheckInterval <= 0 || now.Before(v.next) {
			continue
		}
		v.next = now.Add(v.CheckInterval)
		if v.Action == ActionNone {
			continue
		}
		for _, in := range e.selectView(v, now) {
			switch {
			case v.Action == ActionStop:
				e.stop(now, in, "view "+v.Name)
			case in.State == StateInWorkbin:
				e.requeue(now, in, in.Queue, "view "+v.Name)
			default: // queued, maybe waiting for an absent last agent
				e.anyAgent(in)
			}
		}
	}
}

// selectView returns the interactions v selects, in its order: those of its
// queue that wait there or are on hold in a workbin, matching its condition.
func (e *Engine) selectView(v *view, now time.Time) []*Interaction {
	var sel []*Interaction
	for _, in := range e.ixns {
		idle := in.State == StateQueued && e.invites[in.ID] == nil || in.State == StateInWorkbin
		if idle && e.locks[in.ID] == "" && in.Queue == v.Queue && v.cond.Match(in.Properties, now) {
			sel = append(sel, in)
		}
	}
	slices.SortFunc(sel, func(a, b *Interaction) int { return compareBy(v.order, a, b) })
	return sel
}

// compareBy orders two interactions by keys, then by id.
func compareBy(keys []OrderKey, a, b *Interaction) int {
	for _, k := range keys {
		var c int
		if k.Name == "SubmittedAt" {
			c = a.SubmittedAt.Compare(b.SubmittedAt)
		} else {
			c = compareValues(a.Properties[k.Name], b.Properties[k.Name])
		}
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(a.ID, b.ID)
}

// compareValues compares two property values as numbers when both are.
func compareValues(a, b string) int {
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA == nil && errB == nil {
		return cmp.Compare(x, y)
	}
	return cmp.Compare(a, b)
}

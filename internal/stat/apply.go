package stat

import "time"

// Apply applies one report of the stream. A report at or below
// LastEventID was applied already (a replay after a reconnection) and is
// skipped, so that no action counts twice; Apply reports whether it
// applied r.
func (e *Engine) Apply(r Report) bool {
	if r.ID != 0 && r.ID <= e.last {
		return false
	}
	if r.ID != 0 {
		e.last = r.ID
	}
	if h, ok := handlers[r.Name]; ok {
		h(e, r)
	}
	return true
}

// handlers turn each reporting event into actions (docs/stat.md).
var handlers = map[string]func(e *Engine, r Report){
	"EventAgentLogin": func(e *Engine, r Report) {
		e.startAgent(r.Agent, LoggedIn, "", r.Time)
		e.startAgent(r.Agent, WaitForNextCall, "", r.Time)
	},
	"EventAgentLogout": func(e *Engine, r Report) {
		for _, a := range []Action{WaitForNextCall, NotReadyForNextCall, LoggedIn} {
			e.endAgent(r.Agent, a, "", r.Time)
		}
	},
	"EventAgentAvailable": func(e *Engine, r Report) {
		e.endAgent(r.Agent, NotReadyForNextCall, "", r.Time)
		e.startAgent(r.Agent, WaitForNextCall, "", r.Time)
	},
	"EventAgentNotAvailable": func(e *Engine, r Report) {
		e.endAgent(r.Agent, WaitForNextCall, "", r.Time)
		e.startAgent(r.Agent, NotReadyForNextCall, "", r.Time)
	},
	"EventPlacedInQueue":     (*Engine).placedInQueue,
	"EventTakenFromQueue":    func(e *Engine, r Report) { e.distribute(r.Interaction, e.ixn(r.Interaction), r.Time) },
	"EventAgentInvited":      (*Engine).invited,
	"EventRejected":          func(e *Engine, r Report) { e.endAgent(r.Agent, CallRinging, r.Interaction, r.Time) },
	"EventRevoked":           func(e *Engine, r Report) { e.endAgent(r.Agent, CallRinging, r.Interaction, r.Time) },
	"EventAccepted":          (*Engine).accepted,
	"EventPartyAdded":        func(e *Engine, r Report) { e.startAgent(r.Agent, CallInbound, r.Interaction, r.Time) },
	"EventPartyRemoved":      func(e *Engine, r Report) { e.endAgent(r.Agent, CallInbound, r.Interaction, r.Time) },
	"EventPlacedInWorkbin":   (*Engine).placedInWorkbin,
	"EventTakenFromWorkbin":  (*Engine).takenFromWorkbin,
	"EventProcessingStopped": (*Engine).stopped,
}

func (e *Engine) ixn(id string) *ixnState {
	st := e.ixns[id]
	if st == nil {
		st = &ixnState{}
		e.ixns[id] = st
	}
	return st
}

func (e *Engine) placedInQueue(r Report) {
	st := e.ixn(r.Interaction)
	e.endHandling(r.Interaction, st, r.Time, true)
	if st.queue != "" {
		e.endQueue(st.queue, CallWait, r.Interaction, r.Time)
	}
	st.queue = r.Queue
	e.startQueue(r.Queue, CallWait, r.Interaction, r.Time)
	e.instantQueue(r.Queue, CallEntered, 0, r.Time)
}

// endHandling ends the queue's CallInbound of a handled interaction; a
// return to a queue counts as the queue's CallTransferMade.
func (e *Engine) endHandling(id string, st *ixnState, t time.Time, transferred bool) {
	if st.handledBy == "" {
		return
	}
	e.endQueue(st.handledBy, CallInbound, id, t)
	if transferred {
		e.instantQueue(st.handledBy, CallTransferMade, 0, t)
	}
	st.handledBy = ""
}

// distribute ends the interaction's wait in its queue: CallDistributed,
// with the time it waited.
func (e *Engine) distribute(id string, st *ixnState, t time.Time) (string, bool) {
	q := st.queue
	if q == "" {
		return "", false
	}
	d, _ := e.endQueue(q, CallWait, id, t)
	st.queue = ""
	e.instantQueue(q, CallDistributed, d, t)
	return q, true
}

func (e *Engine) invited(r Report) {
	st := e.ixn(r.Interaction)
	st.invitedAgent, st.invitedFrom = r.Agent, ""
	if r.Kind == "transfer" {
		st.invitedFrom = r.From
	}
	e.startAgent(r.Agent, CallRinging, r.Interaction, r.Time)
}

func (e *Engine) accepted(r Report) {
	st := e.ixn(r.Interaction)
	ring, _ := e.endAgent(r.Agent, CallRinging, r.Interaction, r.Time)
	e.instantAgent(r.Agent, CallAnswered, ring, r.Time)
	if r.Kind == "transfer" && st.invitedFrom != "" {
		e.instantAgent(st.invitedFrom, CallTransferMade, 0, r.Time)
	}
	st.invitedFrom, st.invitedAgent = "", ""
	q, waited := e.distribute(r.Interaction, st, r.Time)
	if !waited {
		q = r.Queue
	}
	if st.handledBy == "" && q != "" {
		st.handledBy = q
		e.startQueue(q, CallInbound, r.Interaction, r.Time)
	}
}

func (e *Engine) placedInWorkbin(r Report) {
	st := e.ixn(r.Interaction)
	st.holdAgent = r.Agent
	e.startAgent(r.Agent, CallOnHold, r.Interaction, r.Time)
}

func (e *Engine) takenFromWorkbin(r Report) {
	st := e.ixn(r.Interaction)
	e.endAgent(r.Agent, CallOnHold, r.Interaction, r.Time)
	st.holdAgent = ""
}

func (e *Engine) stopped(r Report) {
	st := e.ixn(r.Interaction)
	if q := st.queue; q != "" {
		d, _ := e.endQueue(q, CallWait, r.Interaction, r.Time)
		e.instantQueue(q, CallAbandoned, d, r.Time)
	}
	e.endHandling(r.Interaction, st, r.Time, false)
	if st.holdAgent != "" {
		e.endAgent(st.holdAgent, CallOnHold, r.Interaction, r.Time)
	}
	if st.invitedAgent != "" {
		e.endAgent(st.invitedAgent, CallRinging, r.Interaction, r.Time)
	}
	delete(e.ixns, r.Interaction)
}

// obj returns the object of id in m, creating it.
func obj(m map[string]*object, id string) *object {
	o := m[id]
	if o == nil {
		o = &object{active: map[actKey]time.Time{}}
		m[id] = o
	}
	return o
}

func (e *Engine) agentKeys(agent string) []objKey {
	keys := []objKey{{Agent, agent}}
	for _, g := range e.groupsOf[agent] {
		keys = append(keys, objKey{GroupAgents, g})
	}
	return keys
}

func (e *Engine) queueKeys(q string) []objKey {
	return []objKey{{Queue, q}, {Tenant, e.cfg.Tenant}}
}

func (e *Engine) startAgent(agent string, a Action, ixn string, t time.Time) {
	if agent != "" {
		start(obj(e.agents, agent), a, ixn, t)
	}
}

func (e *Engine) startQueue(q string, a Action, ixn string, t time.Time) {
	if q != "" {
		start(obj(e.queues, q), a, ixn, t)
	}
}

// start starts a durable action unless it is under way.
func start(o *object, a Action, ixn string, t time.Time) {
	k := actKey{a, ixn}
	if _, ok := o.active[k]; !ok {
		o.active[k] = t
	}
}

// endAgent ends a durable action of agent and counts it; it returns its
// duration and whether it was under way.
func (e *Engine) endAgent(agent string, a Action, ixn string, t time.Time) (time.Duration, bool) {
	o := e.agents[agent]
	if o == nil {
		return 0, false
	}
	return e.end(o, a, ixn, t, e.agentKeys(agent))
}

func (e *Engine) endQueue(q string, a Action, ixn string, t time.Time) (time.Duration, bool) {
	o := e.queues[q]
	if o == nil {
		return 0, false
	}
	return e.end(o, a, ixn, t, e.queueKeys(q))
}

func (e *Engine) end(o *object, a Action, ixn string, t time.Time, keys []objKey) (time.Duration, bool) {
	k := actKey{a, ixn}
	began, ok := o.active[k]
	if !ok {
		return 0, false
	}
	delete(o.active, k)
	d := max(t.Sub(began), 0)
	e.count(keys, a, d, t)
	return d, true
}

func (e *Engine) instantAgent(agent string, a Action, d time.Duration, t time.Time) {
	if agent != "" {
		e.count(e.agentKeys(agent), a, d, t)
	}
}

func (e *Engine) instantQueue(q string, a Action, d time.Duration, t time.Time) {
	if q != "" {
		e.count(e.queueKeys(q), a, d, t)
	}
}

// count adds a completed action, of duration d at t, to the historical
// statistics of the objects keys.
func (e *Engine) count(keys []objKey, a Action, d time.Duration, t time.Time) {
	for _, k := range keys {
		for _, s := range e.byObject[k] {
			if s.hist == nil || s.st.Subject != DNAction || e.last <= s.from {
				continue
			}
			r := record{Dur: d.Milliseconds(), Main: s.st.MainMask.Has(a), Rel: s.st.RelMask.Has(a)}
			if r.Main || r.Rel {
				r.In = s.st.Category.needsRange() && s.rng.has(d)
				s.hist.add(t, r)
			}
		}
	}
}

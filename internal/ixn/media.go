package ixn

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Actor is who asks for an operation: a registered client by name, and for
// an agent's connection also the agent id. An agent may act only on the
// interactions it holds; media servers and routing clients on any.
type Actor struct {
	Client string
	Agent  string
}

// Submission is a new interaction from a media server.
type Submission struct {
	ID          string
	Tenant      string
	MediaType   string // empty means "chat"
	Queue       string
	Properties  map[string]string
	SubmittedBy string // the media server's client name, where its events go
}

// Submit creates an interaction in its queue and routes.
func (e *Engine) Submit(now time.Time, s Submission) (Output, error) {
	switch {
	case s.ID == "":
		return Output{}, fmt.Errorf("%w: interactionId is required", ErrInvalid)
	case s.SubmittedBy == "":
		return Output{}, fmt.Errorf("%w: submittedBy is required", ErrInvalid)
	case e.ixns[s.ID] != nil:
		return Output{}, fmt.Errorf("%w: %s", ErrDuplicateInteraction, s.ID)
	}
	if err := e.checkQueue(s.Queue); err != nil {
		return Output{}, err
	}
	if err := e.checkProps(s.Properties); err != nil {
		return Output{}, err
	}
	e.begin()
	in := &Interaction{ID: s.ID, Tenant: s.Tenant, MediaType: s.MediaType, State: StateQueued, Queue: s.Queue,
		Properties: cloneProps(s.Properties), SubmittedBy: s.SubmittedBy, SubmittedAt: now, PlacedAt: now}
	if in.MediaType == "" {
		in.MediaType = "chat"
	}
	e.ixns[in.ID] = in
	e.save(in)
	e.report(now, "EventInteractionSubmitted", Body{InteractionID: in.ID, Queue: in.Queue, MediaType: in.MediaType,
		SubmittedBy: in.SubmittedBy, Properties: cloneProps(in.Properties)})
	e.report(now, "EventPlacedInQueue", Body{InteractionID: in.ID, Queue: in.Queue})
	e.greet(in)
	e.route(now)
	return e.finish(), nil
}

func (e *Engine) checkQueue(name string) error {
	if name == "" {
		return fmt.Errorf("%w: queue is required", ErrInvalid)
	}
	if _, ok := e.queues[name]; !ok {
		return fmt.Errorf("%w: %q", ErrNoSuchQueue, name)
	}
	return nil
}

// checkProps refuses a malformed required skill.
func (e *Engine) checkProps(props map[string]string) error {
	if v, ok := props[e.cfg.SkillKey]; ok && v != "" {
		if _, err := ParseSkill(v); err != nil {
			return fmt.Errorf("property %s: %w", e.cfg.SkillKey, err)
		}
	}
	return nil
}

func cloneProps(p map[string]string) map[string]string {
	c := maps.Clone(p)
	if c == nil {
		c = map[string]string{}
	}
	return c
}

// ChangeProperties changes, adds and deletes properties of interaction id,
// tells its followers what changed, and wakes it from a workbin when the
// change sets GCTI_Chat_AsyncStatus to "2".
func (e *Engine) ChangeProperties(now time.Time, by Actor, id string, changed, added map[string]string, deleted []string) (Output, error) {
	in, err := e.acting(by, id)
	if err != nil {
		return Output{}, err
	}
	set := cloneProps(added)
	maps.Copy(set, changed)
	if err := e.checkProps(set); err != nil {
		return Output{}, err
	}
	e.begin()
	keys := applyProps(in.Properties, set, deleted)
	if len(keys) > 0 {
		e.save(in)
		body := Body{InteractionID: in.ID, Properties: cloneProps(in.Properties), Changed: keys}
		e.notify("EventPropertiesChanged", body, true, e.parties(in)...)
		e.report(now, "EventPropertiesChanged", body)
	}
	if _, ok := set[PropChatServerApplication]; ok {
		e.relocated(in.ID)
	}
	if set[PropAsyncStatus] == "2" && in.State == StateInWorkbin {
		e.wake(now, in)
	}
	e.route(now)
	return e.finish(), nil
}

// applyProps applies a change to props and returns the keys that changed.
func applyProps(props, set map[string]string, deleted []string) []string {
	var keys []string
	for k, v := range set {
		if old, ok := props[k]; !ok || old != v {
			props[k] = v
			keys = append(keys, k)
		}
	}
	for _, k := range deleted {
		if _, ok := props[k]; ok && set[k] == "" {
			delete(props, k)
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// wake moves an async interaction from its workbin back to its queue,
// preferring its last agent for the configured number of invitations.
func (e *Engine) wake(now time.Time, in *Interaction) {
	agent := in.WorkbinOf
	e.requeue(now, in, in.Queue, "customer activity")
	if e.cfg.AsyncLastAgentAttempts > 0 && agent != "" {
		e.preferLast(now, in, agent, e.cfg.AsyncLastAgentAttempts)
	}
}

// preferLast makes the router wait for agent, for attempts invitations and
// at most AsyncLastAgentTimeout, before anyone may get in.
func (e *Engine) preferLast(now time.Time, in *Interaction, agent string, attempts int) {
	in.PreferAgent, in.PreferAttempts = agent, attempts
	if e.cfg.AsyncLastAgentTimeout > 0 {
		e.preferUntil[in.ID] = now.Add(e.cfg.AsyncLastAgentTimeout)
	}
}

// anyAgent stops waiting for in's last agent: any agent may get it now.
func (e *Engine) anyAgent(in *Interaction) {
	delete(e.preferUntil, in.ID)
	if in.PreferAgent != "" {
		in.PreferAgent, in.PreferAttempts = "", 0
		e.save(in)
	}
}

// acting returns interaction id if by may act on it.
func (e *Engine) acting(by Actor, id string) (*Interaction, error) {
	if by.Agent != "" {
		in, _, err := e.holder(by.Agent, id)
		return in, err
	}
	return e.get(id)
}

// Stop stops processing interaction id: its followers get
// EventProcessingStopped, a pending invitation is revoked, and it leaves the
// engine (and the store).
func (e *Engine) Stop(now time.Time, by Actor, id, reason string) (Output, error) {
	in, err := e.acting(by, id)
	if err != nil {
		return Output{}, err
	}
	e.begin()
	e.stop(now, in, reason)
	e.route(now)
	return e.finish(), nil
}

func (e *Engine) stop(now time.Time, in *Interaction, reason string) {
	e.revoke(now, in, "stopped")
	e.recordHandle(now, in)
	delete(e.preferUntil, in.ID)
	delete(e.unbound, in.ID)
	to := e.parties(in)
	e.takeOut(now, in)
	for _, a := range slices.Clone(in.Agents) {
		e.release(now, in, a)
	}
	in.State = StateStopped
	e.notify("EventProcessingStopped", Body{InteractionID: in.ID, Reason: reason}, true, to...)
	e.report(now, "EventProcessingStopped", Body{InteractionID: in.ID, Queue: in.Queue, Reason: reason})
	delete(e.ixns, in.ID)
	delete(e.out.dirty, in.ID)
	e.out.deleted = append(e.out.deleted, in.ID)
	for k := range e.excluded {
		if k.ixn == in.ID {
			delete(e.excluded, k)
		}
	}
}

// PlaceInQueue moves interaction id to queue: every agent holding it
// leaves, a pending invitation is revoked, and it waits there for routing.
func (e *Engine) PlaceInQueue(now time.Time, by Actor, id, queue string) (Output, error) {
	in, err := e.acting(by, id)
	if err != nil {
		return Output{}, err
	}
	if err := e.checkQueue(queue); err != nil {
		return Output{}, err
	}
	e.begin()
	e.revoke(now, in, "placed in queue")
	e.requeue(now, in, queue, "")
	e.route(now)
	return e.finish(), nil
}

// requeue puts in back in queue from wherever it is.
func (e *Engine) requeue(now time.Time, in *Interaction, queue, reason string) {
	e.takeOut(now, in)
	for _, a := range slices.Clone(in.Agents) {
		e.release(now, in, a)
	}
	in.State, in.Queue, in.Strategy, in.PlacedAt = StateQueued, queue, "", now
	e.anyAgent(in)
	e.save(in)
	e.report(now, "EventPlacedInQueue", Body{InteractionID: in.ID, Queue: queue, Reason: reason})
}

// Pull takes up to count waiting interactions (count < 1 means 1) for the
// routing client by.Client, from a view or a queue: they stay out of
// routing until the client delivers them, places them in a queue, or
// disconnects.
func (e *Engine) Pull(now time.Time, by Actor, viewName, queue string, count int) ([]Interaction, Output, error) {
	sel, err := e.pullable(now, viewName, queue)
	if err != nil {
		return nil, Output{}, err
	}
	e.begin()
	var pulled []Interaction
	for _, in := range sel[:min(max(count, 1), len(sel))] {
		in.State, in.Strategy = StateRouting, by.Client
		e.save(in)
		e.report(now, "EventTakenFromQueue", Body{InteractionID: in.ID, Queue: in.Queue, Reason: "pull"})
		pulled = append(pulled, in.clone())
	}
	e.route(now)
	return pulled, e.finish(), nil
}

// pullable lists what a pull from viewName or queue may take, in order.
func (e *Engine) pullable(now time.Time, viewName, queue string) ([]*Interaction, error) {
	if viewName != "" {
		v, ok := e.views[viewName]
		if !ok {
			return nil, fmt.Errorf("%w: %q", ErrNoSuchView, viewName)
		}
		return slices.DeleteFunc(e.selectView(v, now), func(in *Interaction) bool { return in.State != StateQueued }), nil
	}
	if err := e.checkQueue(queue); err != nil {
		return nil, err
	}
	return e.waiting(queue), nil
}

// Deliver invites agent to interaction id, which waits in a queue or was
// pulled by the routing client by.Client.
func (e *Engine) Deliver(now time.Time, by Actor, id, agent string) (Output, error) {
	in, err := e.get(id)
	if err != nil {
		return Output{}, err
	}
	pulled := in.State == StateRouting && in.Strategy == by.Client && e.invites[id] == nil
	if in.State != StateQueued && !pulled {
		return Output{}, fmt.Errorf("%w: %s is %s", ErrInvalidState, id, in.State)
	}
	if e.invites[id] != nil {
		return Output{}, fmt.Errorf("%w: %s", ErrInvitationPending, id)
	}
	a, err := e.available(agent)
	if err != nil {
		return Output{}, err
	}
	e.begin()
	in.Strategy = ""
	e.invite(now, in, a, "deliver", "")
	e.route(now)
	return e.finish(), nil
}

// available returns agent if it is logged in with free capacity.
func (e *Engine) available(agent string) (*Agent, error) {
	a, ok := e.agents[agent]
	switch {
	case agent == "":
		return nil, fmt.Errorf("%w: agentId is required", ErrInvalid)
	case !ok:
		return nil, fmt.Errorf("%w: %s", ErrNoSuchAgent, agent)
	case !a.LoggedIn || a.load() >= a.Capacity:
		return nil, fmt.Errorf("%w: %s", ErrAgentUnavailable, agent)
	}
	return a, nil
}

// ReleaseClient returns the interactions the routing client pulled, and has
// not delivered, to their queues: the client disconnected.
func (e *Engine) ReleaseClient(now time.Time, client string) Output {
	e.begin()
	for _, id := range slices.Sorted(maps.Keys(e.ixns)) {
		in := e.ixns[id]
		if in.State == StateRouting && in.Strategy == client && e.invites[id] == nil {
			e.requeue(now, in, in.Queue, "routing client gone")
		}
	}
	e.route(now)
	return e.finish()
}

package ixn

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Credential proves that an agent gave its password; only Authenticate
// makes one.
type Credential struct{ agent string }

// Authenticate checks agent's password and returns the credential Login
// takes. It is slow by design (PBKDF2) and reads only the agents'
// configuration, fixed at NewEngine, so it is safe to call concurrently with
// every other method: callers run it outside the lock they hold for the rest.
//
// An unknown agent costs the same PBKDF2 as a known one (a decoy hash is
// verified), so that the time of a refusal does not tell which agents
// exist.
func (e *Engine) Authenticate(agent, password string) (Credential, error) {
	a, ok := e.agents[agent]
	if !ok {
		e.decoy.verify(password)
		return Credential{}, fmt.Errorf("%w: %s", ErrLoginFailed, agent)
	}
	if !a.verify(password) {
		return Credential{}, fmt.Errorf("%w: %s", ErrLoginFailed, agent)
	}
	return Credential{agent: agent}, nil
}

// Login logs the agent of cred in at place (empty: its configured place)
// with a chat capacity (negative: its configured one; never more than that),
// ready. Logging in an agent already logged in changes nothing. The agent
// gets back the interactions it still holds (Held lists them), and its load
// is counted again from them.
func (e *Engine) Login(now time.Time, cred Credential, place string, capacity int) (Agent, Output, error) {
	a, ok := e.agents[cred.agent]
	if !ok {
		return Agent{}, Output{}, fmt.Errorf("%w: no credential", ErrLoginFailed)
	}
	e.begin()
	delete(e.away, a.ID)
	a.held = e.countHeld(a.ID)
	if !a.LoggedIn {
		a.LoggedIn, a.Ready, a.Reason, a.IdleSince = true, true, "", now
		a.Place = cmp.Or(place, a.AgentConfig.Place)
		a.Capacity = a.AgentConfig.Capacity
		if capacity >= 0 {
			a.Capacity = min(capacity, a.AgentConfig.Capacity)
		}
		e.report(now, "EventAgentLogin", Body{AgentID: a.ID, Place: a.Place})
		e.route(now)
	}
	return *a, e.finish(), nil
}

// Logout logs agent out. Its pending invitations are revoked and their
// interactions routed again; the interactions it holds stay with it, so that
// a desktop that reconnects finds them, for AgentReconnectTimeout (Tick then
// releases them).
func (e *Engine) Logout(now time.Time, agent string) (Output, error) {
	a, err := e.loggedIn(agent)
	if err != nil {
		return Output{}, err
	}
	e.begin()
	for _, id := range slices.Sorted(maps.Keys(e.invites)) {
		if e.invites[id].agent == agent {
			e.revoke(now, e.ixns[id], "logout")
		}
	}
	a.LoggedIn, a.Ready = false, false
	e.awaitReturn(now, a)
	e.report(now, "EventAgentLogout", Body{AgentID: a.ID, Place: a.Place})
	e.route(now)
	return e.finish(), nil
}

// SetReady makes agent ready (available) or not ready for reason.
func (e *Engine) SetReady(now time.Time, agent string, ready bool, reason string) (Output, error) {
	a, err := e.loggedIn(agent)
	if err != nil {
		return Output{}, err
	}
	e.begin()
	name := "EventAgentNotAvailable"
	if ready {
		name, reason = "EventAgentAvailable", ""
		if !a.Ready {
			a.IdleSince = now
		}
	}
	a.Ready, a.Reason = ready, reason
	e.report(now, name, Body{AgentID: a.ID, Place: a.Place, Reason: reason})
	e.route(now)
	return e.finish(), nil
}

// invitationOf returns the pending invitation of agent to interaction id.
func (e *Engine) invitationOf(agent, id string) (*Interaction, *invitation, error) {
	if _, err := e.loggedIn(agent); err != nil {
		return nil, nil, err
	}
	in, err := e.get(id)
	if err != nil {
		return nil, nil, err
	}
	inv := e.invites[id]
	if inv == nil || inv.agent != agent {
		return nil, nil, fmt.Errorf("%w: %s", ErrNoInvitation, id)
	}
	return in, inv, nil
}

// Accept accepts agent's invitation to interaction id: the agent holds it
// (and, for a transfer, the transferring agent leaves it).
func (e *Engine) Accept(now time.Time, agent, id string) (Output, error) {
	in, inv, err := e.invitationOf(agent, id)
	if err != nil {
		return Output{}, err
	}
	e.begin()
	e.withdraw(in)
	if in.State == StateQueued { // routed or delivered from a queue
		e.recordWait(in.Queue, now.Sub(in.PlacedAt))
	}
	in.State = StateHandling
	e.anyAgent(in)
	if inv.kind == "transfer" && in.holds(inv.from) {
		e.release(now, in, inv.from)
	}
	e.hold(now, in, agent, inv.kind)
	e.report(now, "EventAccepted", Body{InteractionID: in.ID, AgentID: agent, Queue: in.Queue, Kind: inv.kind})
	e.route(now)
	return e.finish(), nil
}

// Reject rejects agent's invitation to interaction id; the agent is not
// invited to it again for a while.
func (e *Engine) Reject(now time.Time, agent, id string) (Output, error) {
	in, inv, err := e.invitationOf(agent, id)
	if err != nil {
		return Output{}, err
	}
	e.begin()
	e.decline(now, in, inv, "reject")
	e.route(now)
	return e.finish(), nil
}

// hold makes agent a holder of in.
func (e *Engine) hold(now time.Time, in *Interaction, agent, how string) {
	in.Agents = append(in.Agents, agent)
	in.Parties = append(in.Parties, Party{AgentID: agent, How: how, Joined: now})
	in.LastAgent = agent
	if a := e.agents[agent]; a != nil {
		a.held++
	}
	e.save(in)
	e.notify("EventPartyAdded", Body{InteractionID: in.ID, AgentID: agent, Kind: how}, false, e.parties(in)...)
	e.report(now, "EventPartyAdded", Body{InteractionID: in.ID, AgentID: agent, Kind: how})
}

// release removes agent from the holders of in.
func (e *Engine) release(now time.Time, in *Interaction, agent string) {
	to := e.parties(in)
	in.Agents = slices.DeleteFunc(in.Agents, func(a string) bool { return a == agent })
	for i := range in.Parties {
		if p := &in.Parties[i]; p.AgentID == agent && p.Left.IsZero() {
			p.Left = now
		}
	}
	if a := e.agents[agent]; a != nil {
		a.held--
	}
	e.save(in)
	e.notify("EventPartyRemoved", Body{InteractionID: in.ID, AgentID: agent}, false, to...)
	e.report(now, "EventPartyRemoved", Body{InteractionID: in.ID, AgentID: agent})
}

// takeOut takes in out of the workbin it is in, if any.
func (e *Engine) takeOut(now time.Time, in *Interaction) {
	if in.State != StateInWorkbin {
		return
	}
	body := Body{InteractionID: in.ID, AgentID: in.WorkbinOf, Workbin: in.Workbin, Operation: "taken_out"}
	e.notify("EventWorkbinContentChanged", body, false, Target{Agent: in.WorkbinOf})
	e.report(now, "EventTakenFromWorkbin", body)
	in.Workbin, in.WorkbinOf = "", ""
	e.save(in)
}

// PlaceInWorkbin puts interaction id on hold in agent's workbin: every agent
// holding it leaves it.
func (e *Engine) PlaceInWorkbin(now time.Time, agent, id, workbin string) (Output, error) {
	in, _, err := e.holder(agent, id)
	if err != nil {
		return Output{}, err
	}
	if workbin == "" {
		return Output{}, fmt.Errorf("%w: workbin is required", ErrInvalid)
	}
	e.begin()
	e.revoke(now, in, "placed in workbin")
	for _, a := range slices.Clone(in.Agents) {
		e.release(now, in, a)
	}
	in.State, in.Workbin, in.WorkbinOf, in.PlacedAt = StateInWorkbin, workbin, agent, now
	e.save(in)
	body := Body{InteractionID: in.ID, AgentID: agent, Workbin: workbin, Operation: "placed_in"}
	e.notify("EventWorkbinContentChanged", body, false, Target{Agent: agent})
	e.report(now, "EventPlacedInWorkbin", body)
	e.route(now)
	return e.finish(), nil
}

// WorkbinContent lists agent's workbin, oldest first.
func (e *Engine) WorkbinContent(agent, workbin string) ([]Interaction, error) {
	if _, err := e.loggedIn(agent); err != nil {
		return nil, err
	}
	var list []*Interaction
	for _, in := range e.ixns {
		if in.State == StateInWorkbin && in.WorkbinOf == agent && (workbin == "" || in.Workbin == workbin) {
			list = append(list, in)
		}
	}
	slices.SortFunc(list, func(a, b *Interaction) int { return cmp.Or(a.PlacedAt.Compare(b.PlacedAt), cmp.Compare(a.ID, b.ID)) })
	out := make([]Interaction, len(list))
	for i, in := range list {
		out[i] = in.clone()
	}
	return out, nil
}

// TakeFromWorkbin gives agent interaction id back from its own workbin.
func (e *Engine) TakeFromWorkbin(now time.Time, agent, id string) (Interaction, Output, error) {
	if _, err := e.loggedIn(agent); err != nil {
		return Interaction{}, Output{}, err
	}
	in, err := e.get(id)
	if err != nil {
		return Interaction{}, Output{}, err
	}
	if in.State != StateInWorkbin || in.WorkbinOf != agent {
		return Interaction{}, Output{}, fmt.Errorf("%w: %s is not in the agent's workbin", ErrInvalidState, id)
	}
	e.begin()
	e.takeOut(now, in)
	in.State = StateHandling
	e.hold(now, in, agent, "pull")
	e.route(now)
	return in.clone(), e.finish(), nil
}

// Transfer moves interaction id from agent to a queue (every holder leaves)
// or invites another agent, who takes agent's place on accepting.
func (e *Engine) Transfer(now time.Time, agent, id, queue, toAgent string) (Output, error) {
	if queue != "" {
		return e.PlaceInQueue(now, Actor{Agent: agent}, id, queue)
	}
	return e.inviteParty(now, agent, id, toAgent, "transfer")
}

// Conference invites another agent to interaction id, which both hold once
// it accepts.
func (e *Engine) Conference(now time.Time, agent, id, toAgent string) (Output, error) {
	return e.inviteParty(now, agent, id, toAgent, "conference")
}

func (e *Engine) inviteParty(now time.Time, agent, id, toAgent, kind string) (Output, error) {
	in, _, err := e.holder(agent, id)
	if err != nil {
		return Output{}, err
	}
	if e.invites[id] != nil {
		return Output{}, fmt.Errorf("%w: %s", ErrInvitationPending, id)
	}
	to, err := e.available(toAgent)
	if err != nil {
		return Output{}, err
	}
	if in.holds(toAgent) {
		return Output{}, fmt.Errorf("%w: %s already holds %s", ErrInvalidState, toAgent, id)
	}
	e.begin()
	e.invite(now, in, to, kind, agent)
	return e.finish(), nil
}

// LeaveInteraction removes agent from interaction id. When no agent is left
// holding it, it goes back to its queue.
func (e *Engine) LeaveInteraction(now time.Time, agent, id string) (Output, error) {
	in, _, err := e.holder(agent, id)
	if err != nil {
		return Output{}, err
	}
	e.begin()
	e.release(now, in, agent)
	if len(in.Agents) == 0 {
		e.revoke(now, in, "left")
		e.requeue(now, in, in.Queue, "last agent left")
	}
	e.route(now)
	return e.finish(), nil
}

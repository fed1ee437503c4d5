package ixn

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Property keys the engine reads or writes.
const (
	// PropQueuePosition is the 1-based position of a waiting interaction in
	// its queue, published by the router.
	PropQueuePosition = "QueuePosition"
	// PropEstimatedWaitTime is the estimated wait in seconds of a waiting
	// interaction, from its position (see Engine.estimate).
	PropEstimatedWaitTime = "EstimatedWaitTime"
	// PropAsyncStatus is the async chat status; "2" from the chat server
	// means customer activity, which wakes an interaction in a workbin.
	PropAsyncStatus = "GCTI_Chat_AsyncStatus"
	// DefaultSkillKey is the default property holding a required skill.
	DefaultSkillKey = "RequiredSkill"
)

// recentWaits is how many deliveries, and handled interactions, a queue's
// estimated wait averages.
const recentWaits = 20

// Config is the engine's configuration.
type Config struct {
	Queues []Queue
	Views  []View
	Agents []AgentConfig
	// InviteTimeout is how long an agent has to accept an invitation.
	InviteTimeout time.Duration
	// RerouteExclude is how long an agent that rejected an interaction, or
	// let its invitation time out, is not invited to it again.
	RerouteExclude time.Duration
	// AsyncLastAgentAttempts is how many invitations an interaction woken
	// from a workbin makes to its last agent before anyone may get it.
	AsyncLastAgentAttempts int
	// AsyncLastAgentTimeout is how long such an interaction waits for its
	// last agent at most, counted from its wake-up (or from a restore);
	// zero means no limit.
	AsyncLastAgentTimeout time.Duration
	// SkillKey is the property holding a required skill; empty means
	// DefaultSkillKey.
	SkillKey string
	// AgentReconnectTimeout is how long the interactions an agent holds stay
	// with it once it is logged out (a dropped connection, a logout, or a
	// restart of the server, which logs every agent out), waiting for it to
	// log in again; then it leaves them and they are routed again. Zero
	// keeps them with it until it leaves them.
	AgentReconnectTimeout time.Duration
	// NotReadyReasons are the reasons agents may give for Not Ready; with
	// none, a reason is free text.
	NotReadyReasons []NotReadyReason
	// SnapshotSize is the most interactions one snapshot holds; zero means
	// DefaultSnapshotSize.
	SnapshotSize int
	// NotReadyOnInvitationTimeout makes an agent that lets an invitation
	// time out not ready (reason "invitation timeout"), so that the router
	// stops inviting an agent who is away.
	NotReadyOnInvitationTimeout bool
}

// view is a configured view, parsed.
type view struct {
	View
	cond  Condition
	order []OrderKey
	next  time.Time // next check, from Restore on
}

// invitation is the one pending invitation of an interaction.
type invitation struct {
	agent    string
	kind     string // route, deliver, transfer or conference
	from     string // the agent transferring or conferencing
	deadline time.Time
}

// exclusion is an agent not to be invited to an interaction.
type exclusion struct{ ixn, agent string }

// Engine holds the interaction server's state and applies its rules. It is
// not safe for concurrent use: the caller serialises operations. Every
// operation takes the current time.
type Engine struct {
	cfg          Config
	queues       map[string]Queue
	views        map[string]*view
	agents       map[string]*Agent
	ixns         map[string]*Interaction
	invites      map[string]*invitation // by interaction id
	excluded     map[exclusion]time.Time
	waits        map[string][]time.Duration // per queue, the last deliveries' waits
	handles      map[string][]time.Duration // per queue, the last handled interactions' handle times
	preferUntil  map[string]time.Time       // by interaction id: when waiting for its last agent ends
	away         map[string]time.Time       // by agent id: when a logged-out agent leaves what it holds
	unbound      map[string]*unbound        // by interaction id: back-off after failed joins (LeaveUnjoined)
	reminders    map[string]waitingNotice   // by interaction id: its queue's next waiting notice
	locks        map[string]string          // by interaction id: the client holding its lock (locks.go)
	snapshots    map[string]*snapshot       // by snapshot id (snapshot.go)
	lastSnapshot int64
	lastEventID  int64
	out          pending
	decoy        AgentConfig // what Authenticate verifies for an unknown agent (password.go)
}

// New returns an engine for cfg, or an error naming the bad view, order,
// skill or password hash.
func New(cfg Config) (*Engine, error) {
	cfg.SkillKey = cmp.Or(cfg.SkillKey, DefaultSkillKey)
	e := &Engine{cfg: cfg, queues: map[string]Queue{}, views: map[string]*view{}, agents: map[string]*Agent{},
		ixns: map[string]*Interaction{}, invites: map[string]*invitation{}, excluded: map[exclusion]time.Time{},
		waits: map[string][]time.Duration{}, handles: map[string][]time.Duration{}, preferUntil: map[string]time.Time{},
		away: map[string]time.Time{}, reminders: map[string]waitingNotice{}, locks: map[string]string{},
		snapshots: map[string]*snapshot{}}
	for _, q := range cfg.Queues {
		e.queues[q.Name] = q
	}
	for _, v := range cfg.Views {
		pv, err := parseView(v, e.queues)
		if err != nil {
			return nil, err
		}
		e.views[v.Name] = pv
	}
	for _, a := range cfg.Agents {
		if err := CheckPasswordHash(a.PasswordHash); err != nil {
			return nil, fmt.Errorf("agent %s: %w", a.ID, err)
		}
		e.agents[a.ID] = &Agent{AgentConfig: a}
	}
	e.decoy = decoyAgent(cfg.Agents)
	return e, nil
}

func parseView(v View, queues map[string]Queue) (*view, error) {
	if _, ok := queues[v.Queue]; !ok {
		return nil, fmt.Errorf("view %s: %w: %q", v.Name, ErrNoSuchQueue, v.Queue)
	}
	cond, err := ParseCondition(v.Condition)
	if err != nil {
		return nil, fmt.Errorf("view %s: %w", v.Name, err)
	}
	order, err := ParseOrder(v.Order)
	if err != nil {
		return nil, fmt.Errorf("view %s: %w", v.Name, err)
	}
	return &view{View: v, cond: cond, order: order}, nil
}

// Restore loads the interactions a store kept and the last reporting event
// id, before any other operation. Invitations and pulls did not survive:
// interactions being routed go back to their queue. Agents are logged out:
// those holding interactions have AgentReconnectTimeout from now to log in
// again and find them. It returns the output of
// that, and of routing.
func (e *Engine) Restore(now time.Time, ixns []Interaction, lastEventID int64) Output {
	e.begin()
	e.lastEventID = lastEventID
	for _, v := range e.views {
		v.next = now.Add(v.CheckInterval)
	}
	for i := range ixns {
		in := ixns[i].clone()
		e.ixns[in.ID] = &in
		if in.State == StateRouting {
			in.State, in.Strategy = StateQueued, ""
			e.save(&in)
		}
		for _, id := range in.Agents {
			if a := e.agents[id]; a != nil {
				a.held++
			}
		}
		if in.PreferAgent != "" && in.State == StateQueued {
			e.preferLast(now, &in, in.PreferAgent, in.PreferAttempts)
		}
	}
	for _, a := range e.agents { // nobody is logged in after a restart
		e.awaitReturn(now, a)
	}
	e.route(now)
	return e.finish()
}

// Interaction returns a copy of the interaction id.
func (e *Engine) Interaction(id string) (Interaction, bool) {
	in, ok := e.ixns[id]
	if !ok {
		return Interaction{}, false
	}
	return in.clone(), true
}

// Agent returns a copy of the state of agent id.
func (e *Engine) Agent(id string) (Agent, bool) {
	a, ok := e.agents[id]
	if !ok {
		return Agent{}, false
	}
	c := *a
	c.Media, c.NotReadyFor = maps.Clone(a.Media), maps.Clone(a.NotReadyFor)
	return c, true
}

// Counts returns how many interactions the engine holds and how many agents
// are logged in.
func (e *Engine) Counts() (interactions, agents int) {
	for _, a := range e.agents {
		if a.LoggedIn {
			agents++
		}
	}
	return len(e.ixns), agents
}

// LastEventID returns the id of the last reporting event emitted.
func (e *Engine) LastEventID() int64 { return e.lastEventID }

// get returns the interaction id or ErrNoSuchInteraction.
func (e *Engine) get(id string) (*Interaction, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: interactionId is required", ErrInvalid)
	}
	in, ok := e.ixns[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchInteraction, id)
	}
	return in, nil
}

// loggedIn returns the logged-in agent id, or ErrNotLoggedIn.
func (e *Engine) loggedIn(id string) (*Agent, error) {
	a, ok := e.agents[id]
	if !ok || !a.LoggedIn {
		return nil, fmt.Errorf("%w: %s", ErrNotLoggedIn, id)
	}
	return a, nil
}

// holder returns in and the agent, which must be logged in and hold in.
func (e *Engine) holder(agent, id string) (*Interaction, *Agent, error) {
	a, err := e.loggedIn(agent)
	if err != nil {
		return nil, nil, err
	}
	in, err := e.get(id)
	if err != nil {
		return nil, nil, err
	}
	if !in.holds(agent) {
		return nil, nil, fmt.Errorf("%w: %s", ErrNotParty, id)
	}
	return in, a, nil
}

// Tick expires invitations, releases the interactions of agents that did
// not log in again in time and runs the views due at now, then routes.
func (e *Engine) Tick(now time.Time) Output {
	e.begin()
	for _, id := range slices.Sorted(maps.Keys(e.invites)) {
		if inv := e.invites[id]; !now.Before(inv.deadline) {
			e.decline(now, e.ixns[id], inv, "timeout")
		}
	}
	for k, until := range e.excluded {
		if !now.Before(until) {
			delete(e.excluded, k)
		}
	}
	for id, until := range e.preferUntil {
		if in := e.ixns[id]; in != nil && !now.Before(until) {
			e.anyAgent(in)
		}
	}
	e.releaseAway(now)
	e.expireUnbound(now)
	e.checkViews(now)
	e.route(now)
	e.remind(now)
	return e.finish()
}

// NextDeadline returns the earliest time Tick has work: an invitation
// timing out, an exclusion ending, the wait for a last agent ending, the
// time a logged-out agent had to come back ending or a view check. ok is false when none.
func (e *Engine) NextDeadline() (t time.Time, ok bool) {
	earliest := func(d time.Time) {
		if !ok || d.Before(t) {
			t, ok = d, true
		}
	}
	for _, inv := range e.invites {
		earliest(inv.deadline)
	}
	for _, until := range e.excluded {
		earliest(until)
	}
	for _, until := range e.preferUntil {
		earliest(until)
	}
	e.unboundDeadlines(earliest)
	for _, v := range e.views {
		if v.CheckInterval > 0 && v.Action != ActionNone {
			earliest(v.next)
		}
	}
	if until, away := e.earliestAway(); away {
		earliest(until)
	}
	e.waitingDeadlines(earliest)
	return t, ok
}

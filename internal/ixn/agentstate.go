package ixn

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"
)

// NotReadyReason is a Not Ready reason agents of a tenant may give: a code
// (what requests carry) and its label (what desktops show). An empty
// Tenant offers it to every agent.
type NotReadyReason struct {
	Code   string `json:"code"`
	Label  string `json:"label"`
	Tenant string `json:"tenant,omitempty"`
}

// AgentStatus is an agent's state as EventCurrentAgentStatus tells it.
type AgentStatus struct {
	Ready  bool          `json:"ready"`
	Reason string        `json:"reason,omitempty"`
	DND    bool          `json:"dnd"`
	Media  []MediaStatus `json:"media"`
}

// MediaStatus is the state of one media of an agent's login.
type MediaStatus struct {
	MediaType string `json:"mediaType"`
	Ready     bool   `json:"ready"`
	Reason    string `json:"reason,omitempty"`
}

// takes reports whether the router may offer a an interaction of media:
// a has it in its login, is ready for it and is not on do-not-disturb.
func (a *Agent) takes(media string) bool {
	_, notReady := a.NotReadyFor[media]
	return a.Media[media] && !notReady && !a.DND
}

// fresh gives a new login its media: chat, ready, do-not-disturb off.
func (a *Agent) fresh() {
	a.Media, a.NotReadyFor, a.DND = map[string]bool{"chat": true}, map[string]string{}, false
}

// Status returns a's state, media sorted by name.
func (a *Agent) Status() AgentStatus {
	st := AgentStatus{Ready: a.Ready, Reason: a.Reason, DND: a.DND, Media: []MediaStatus{}}
	for _, m := range slices.Sorted(maps.Keys(a.Media)) {
		reason, notReady := a.NotReadyFor[m]
		st.Media = append(st.Media, MediaStatus{MediaType: m, Ready: !notReady, Reason: reason})
	}
	return st
}

// Reasons returns the Not Ready reasons agent may give, sorted by code.
func (e *Engine) Reasons(agent string) []NotReadyReason {
	a := e.agents[agent]
	var out []NotReadyReason
	for _, r := range e.cfg.NotReadyReasons {
		if a != nil && (r.Tenant == "" || r.Tenant == a.Tenant) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(x, y NotReadyReason) int { return cmp.Compare(x.Code, y.Code) })
	return out
}

// checkReason refuses a reason that is not one of a's tenant's codes, when
// Not Ready reasons are configured; without any, a reason is free text.
func (e *Engine) checkReason(a *Agent, reason string) error {
	if reason == "" || len(e.cfg.NotReadyReasons) == 0 {
		return nil
	}
	for _, r := range e.Reasons(a.ID) {
		if r.Code == reason {
			return nil
		}
	}
	return fmt.Errorf("%w: %q", ErrNoSuchReason, reason)
}

// agentEvent tells agent's connections and the reporting clients a change
// of its state.
func (e *Engine) agentEvent(now time.Time, name string, a *Agent, media, reason string) {
	body := Body{AgentID: a.ID, Place: a.Place, MediaType: media, Reason: reason}
	e.notify(name, body, false, Target{Agent: a.ID})
	e.report(now, name, body)
}

// media returns agent, logged in, and checks that media is in its login.
func (e *Engine) media(agent, media string) (*Agent, error) {
	a, err := e.loggedIn(agent)
	if err != nil {
		return nil, err
	}
	if media == "" {
		return nil, fmt.Errorf("%w: mediaType is required", ErrInvalid)
	}
	if !a.Media[media] {
		return nil, fmt.Errorf("%w: %s has no media %s", ErrNoSuchMedia, agent, media)
	}
	return a, nil
}

// AddMedia adds media to agent's login, ready (EventMediaAdded).
func (e *Engine) AddMedia(now time.Time, agent, media string) (Output, error) {
	a, err := e.loggedIn(agent)
	switch {
	case err != nil:
		return Output{}, err
	case media == "":
		return Output{}, fmt.Errorf("%w: mediaType is required", ErrInvalid)
	case a.Media[media]:
		return Output{}, fmt.Errorf("%w: %s has media %s already", ErrInvalidState, agent, media)
	}
	e.begin()
	a.Media[media] = true
	e.agentEvent(now, "EventMediaAdded", a, media, "")
	e.route(now)
	return e.finish(), nil
}

// RemoveMedia takes media out of agent's login (EventMediaRemoved): it is
// offered no more interactions of it; those it holds stay with it.
func (e *Engine) RemoveMedia(now time.Time, agent, media string) (Output, error) {
	a, err := e.media(agent, media)
	if err != nil {
		return Output{}, err
	}
	e.begin()
	delete(a.Media, media)
	delete(a.NotReadyFor, media)
	e.agentEvent(now, "EventMediaRemoved", a, media, "")
	return e.finish(), nil
}

// NotReadyForMedia makes agent not ready for media with reason
// (EventNotReadyForMedia); it stays ready for its other media.
func (e *Engine) NotReadyForMedia(now time.Time, agent, media, reason string) (Output, error) {
	a, err := e.media(agent, media)
	if err != nil {
		return Output{}, err
	}
	if err := e.checkReason(a, reason); err != nil {
		return Output{}, err
	}
	e.begin()
	a.NotReadyFor[media] = reason
	e.agentEvent(now, "EventNotReadyForMedia", a, media, reason)
	return e.finish(), nil
}

// CancelNotReadyForMedia makes agent ready for media again
// (EventReadyForMedia), and routes.
func (e *Engine) CancelNotReadyForMedia(now time.Time, agent, media string) (Output, error) {
	a, err := e.media(agent, media)
	if err != nil {
		return Output{}, err
	}
	if _, notReady := a.NotReadyFor[media]; !notReady {
		return Output{}, fmt.Errorf("%w: %s is ready for %s", ErrInvalidState, agent, media)
	}
	e.begin()
	delete(a.NotReadyFor, media)
	a.IdleSince = now
	e.agentEvent(now, "EventReadyForMedia", a, media, "")
	e.route(now)
	return e.finish(), nil
}

// SetDND turns agent's do-not-disturb on or off (EventDoNotDisturbOn,
// EventDoNotDisturbOff): while on, it is offered nothing.
func (e *Engine) SetDND(now time.Time, agent string, on bool) (Output, error) {
	a, err := e.loggedIn(agent)
	if err != nil {
		return Output{}, err
	}
	e.begin()
	a.DND = on
	name := "EventDoNotDisturbOff"
	if on {
		name = "EventDoNotDisturbOn"
	}
	e.agentEvent(now, name, a, "", "")
	if !on {
		e.route(now)
	}
	return e.finish(), nil
}

// ChangeAgentStateReason changes the reason of agent's Not Ready state
// (EventAgentStateReasonChanged).
func (e *Engine) ChangeAgentStateReason(now time.Time, agent, reason string) (Output, error) {
	a, err := e.loggedIn(agent)
	if err != nil {
		return Output{}, err
	}
	if a.Ready {
		return Output{}, fmt.Errorf("%w: %s is ready", ErrInvalidState, agent)
	}
	if err := e.checkReason(a, reason); err != nil {
		return Output{}, err
	}
	e.begin()
	a.Reason = reason
	e.agentEvent(now, "EventAgentStateReasonChanged", a, "", reason)
	return e.finish(), nil
}

// ChangeMediaStateReason changes the reason agent is not ready for media
// (EventMediaStateReasonChanged).
func (e *Engine) ChangeMediaStateReason(now time.Time, agent, media, reason string) (Output, error) {
	a, err := e.media(agent, media)
	if err != nil {
		return Output{}, err
	}
	if _, notReady := a.NotReadyFor[media]; !notReady {
		return Output{}, fmt.Errorf("%w: %s is ready for %s", ErrInvalidState, agent, media)
	}
	if err := e.checkReason(a, reason); err != nil {
		return Output{}, err
	}
	e.begin()
	a.NotReadyFor[media] = reason
	e.agentEvent(now, "EventMediaStateReasonChanged", a, media, reason)
	return e.finish(), nil
}

// AgentConnectionClosed reports that a connection of agent closed
// (EventAgentConnectionClosed), whether or not the agent is logged out by
// it: reporting tells a dropped desktop from a logout.
func (e *Engine) AgentConnectionClosed(now time.Time, agent string) Output {
	e.begin()
	body := Body{AgentID: agent}
	if a := e.agents[agent]; a != nil {
		body.Place = a.Place
	}
	e.report(now, "EventAgentConnectionClosed", body)
	return e.finish()
}

package stat

import (
	"fmt"
	"slices"
	"time"
)

// Value returns the value of the open statistic def at now.
func (e *Engine) Value(def Definition, now time.Time) (Value, error) {
	s, ok := e.stats[def]
	if !ok {
		return Value{}, fmt.Errorf("%w: %+v", ErrNoSuchStatistic, def)
	}
	if s.hist != nil {
		return historical(s.st.Category, s.hist.totals(now)), nil
	}
	if s.st.Category == CurrentState {
		status, _ := e.status(def.ObjectID)
		return Value{State: string(status)}, nil
	}
	return current(s.st.Category, e.durations(s, now), s.rng), nil
}

// historical computes a historical category from its aggregate. Times are
// in seconds; percentages from 0 to 100, 0 when nothing counted.
func historical(c Category, t Totals) Value {
	var v float64
	switch c {
	case TotalNumber:
		v = float64(t.Number)
	case TotalTime:
		v = seconds(t.Time)
	case TotalAverageTime:
		v = ratio(seconds(t.Time), float64(t.Number))
	case MaxTime:
		v = seconds(t.Max)
	case MinTime:
		v = seconds(t.Min)
	case TotalNumberInTimeRange:
		v = float64(t.InRange)
	case TotalNumberInTimeRangePercentage:
		v = 100 * ratio(float64(t.InRange), float64(t.Rel))
	case ServiceFactor1:
		v = 100 * ratio(float64(t.InRange), float64(t.Rel-t.Short))
	}
	return Value{Number: v}
}

// current computes a current category from the durations of the actions
// (or statuses) it counts.
func current(c Category, ds []time.Duration, rng TimeRange) Value {
	var sum, most time.Duration
	least := time.Duration(-1)
	in := 0
	for _, d := range ds {
		sum += d
		most = max(most, d)
		if least < 0 || d < least {
			least = d
		}
		if rng.has(d) {
			in++
		}
	}
	var v float64
	switch c {
	case CurrentNumber:
		v = float64(len(ds))
	case CurrentTime:
		v = sum.Seconds()
	case CurrentMaxTime:
		v = most.Seconds()
	case CurrentMinTime:
		v = max(least, 0).Seconds()
	case CurrentAverageTime:
		v = ratio(sum.Seconds(), float64(len(ds)))
	case CurrentNumberInTimeRange:
		v = float64(in)
	}
	return Value{Number: v}
}

func seconds(ms int64) float64 { return float64(ms) / 1000 }

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// durations returns how long each action (DNAction) or agent status
// (AgentStatus) that s's MainMask selects on its object has lasted at now.
func (e *Engine) durations(s *statistic, now time.Time) []time.Duration {
	var ds []time.Duration
	if s.st.Subject == AgentStatus {
		for _, a := range e.agentsOf(s.def) {
			if status, since := e.status(a); s.st.MainMask.Has(status) {
				ds = append(ds, now.Sub(since))
			}
		}
		return ds
	}
	for _, o := range e.objectsOf(s.def) {
		for k, began := range o.active {
			if s.st.MainMask.Has(k.a) {
				ds = append(ds, now.Sub(began))
			}
		}
	}
	return ds
}

// agentsOf returns the agents an AgentStatus statistic looks at.
func (e *Engine) agentsOf(def Definition) []string {
	switch def.ObjectType {
	case Agent:
		return []string{def.ObjectID}
	case GroupAgents:
		return e.cfg.Groups[def.ObjectID]
	case Tenant:
		return e.cfg.Agents
	}
	return nil
}

// objectsOf returns the agents or queues whose actions a DNAction
// statistic counts: a tenant's are its queues'.
func (e *Engine) objectsOf(def Definition) []*object {
	var out []*object
	add := func(m map[string]*object, id string) {
		if o := m[id]; o != nil {
			out = append(out, o)
		}
	}
	switch def.ObjectType {
	case Agent:
		add(e.agents, def.ObjectID)
	case GroupAgents:
		for _, a := range e.cfg.Groups[def.ObjectID] {
			add(e.agents, a)
		}
	case Queue:
		add(e.queues, def.ObjectID)
	case Tenant:
		for _, q := range e.cfg.Queues {
			add(e.queues, q)
		}
	}
	return out
}

// status returns an agent's status, its highest-priority current action
// (LoggedOut when it has none), and since when it has had it.
func (e *Engine) status(agent string) (Action, time.Time) {
	o := e.agents[agent]
	if o == nil {
		return LoggedOut, time.Time{}
	}
	best, since := -1, time.Time{}
	for k, began := range o.active {
		i := slices.Index(agentStatus, k.a)
		if i < 0 {
			continue
		}
		if best < 0 || i < best || i == best && began.Before(since) {
			best, since = i, began
		}
	}
	if best < 0 {
		return LoggedOut, time.Time{}
	}
	return agentStatus[best], since
}

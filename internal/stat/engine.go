package stat

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Config is what the Engine knows of the contact center: its objects and
// its statistic definitions.
type Config struct {
	Tenant    string              // the tenant's name; default "Environment"
	Agents    []string            // agent ids
	Queues    []string            // queue names
	Groups    map[string][]string // agent group name -> agent ids
	StatTypes map[string]StatType
	Profiles  map[string]TimeProfile
	Ranges    map[string]TimeRange
}

// DefaultTenant is the tenant of a configuration that names none, as
// Genesys calls its single-tenant environment.
const DefaultTenant = "Environment"

// DefaultProfile is the time profile of a historical statistic opened
// without one.
const DefaultProfile = "Default"

// Definition is a statistic: an object, a stat type and, as the category
// needs them, a time profile and a time range. Clients opening equal
// definitions share one statistic.
type Definition struct {
	ObjectType  ObjectType `json:"objectType"`
	ObjectID    string     `json:"objectId"`
	StatType    string     `json:"statisticType"`
	TimeProfile string     `json:"timeProfile,omitempty"`
	TimeRange   string     `json:"timeRange,omitempty"`
}

// Value is a statistic's value: a number (a count, seconds, or a
// percentage), or for CurrentState the agent's status.
type Value struct {
	Number float64 `json:"value"`
	State  string  `json:"state,omitempty"`
}

// Report is one event of the interaction server's reporting stream, with
// the fields the Engine reads (docs/ixn.md, Reporting stream).
type Report struct {
	ID          int64
	Name        string
	Time        time.Time
	Interaction string
	Agent       string
	Queue       string
	Kind        string // of an invitation or acceptance
	From        string // the agent that asked for a transfer or conference
}

type objKey struct {
	t  ObjectType
	id string
}

type actKey struct {
	a   Action
	ixn string // "" for agent states
}

// object is what an agent or queue is doing now.
type object struct {
	active map[actKey]time.Time // current durable actions, by start
}

// ixnState is what the Engine follows of one interaction.
type ixnState struct {
	queue        string // where it waits
	handledBy    string // the queue it is handled for, "" when not handled
	holdAgent    string // whose workbin holds it
	invitedFrom  string // the agent that asked for the pending transfer
	invitedAgent string
}

// statistic is an open statistic.
type statistic struct {
	def  Definition
	st   StatType
	rng  TimeRange
	hist *history // nil for a current category
	refs int
	// from is the last event the history already holds when it was adopted
	// from the HA peer: later events only are counted.
	from int64
}

// Engine computes statistics from the reporting stream. It is not safe for
// concurrent use: the stat server serialises calls.
type Engine struct {
	cfg      Config
	groupsOf map[string][]string // agent -> its groups
	agents   map[string]*object
	queues   map[string]*object
	ixns     map[string]*ixnState
	stats    map[Definition]*statistic
	byObject map[objKey][]*statistic
	last     int64
}

// New returns an Engine for cfg.
func New(cfg Config) *Engine {
	if cfg.Tenant == "" {
		cfg.Tenant = DefaultTenant
	}
	e := &Engine{cfg: cfg, groupsOf: map[string][]string{}, agents: map[string]*object{}, queues: map[string]*object{},
		ixns: map[string]*ixnState{}, stats: map[Definition]*statistic{}, byObject: map[objKey][]*statistic{}}
	for _, g := range slices.Sorted(maps.Keys(cfg.Groups)) {
		for _, a := range cfg.Groups[g] {
			e.groupsOf[a] = append(e.groupsOf[a], g)
		}
	}
	return e
}

// LastEventID returns the id of the last report applied: where to resume
// the stream.
func (e *Engine) LastEventID() int64 { return e.last }

// Open opens the statistic def at now, or adds a holder to it when it is
// open already. A historical category without a time profile gets
// DefaultProfile. It returns the definition as opened.
func (e *Engine) Open(def Definition, now time.Time) (Definition, error) {
	st, ok := e.cfg.StatTypes[def.StatType]
	if !ok {
		return def, fmt.Errorf("%w: stat type %q", ErrNoSuchStatType, def.StatType)
	}
	if err := e.checkObject(st, def); err != nil {
		return def, err
	}
	s := &statistic{st: st}
	if err := e.bind(s, &def); err != nil {
		return def, err
	}
	if have, ok := e.stats[def]; ok {
		have.refs++
		return def, nil
	}
	s.def, s.refs = def, 1
	e.stats[def] = s
	k := objKey{def.ObjectType, def.ObjectID}
	e.byObject[k] = append(e.byObject[k], s)
	return def, nil
}

// checkObject checks that def's object exists and st applies to its type.
func (e *Engine) checkObject(st StatType, def Definition) error {
	if !slices.Contains(st.Objects, def.ObjectType) {
		return fmt.Errorf("%w: stat type %q does not apply to %s objects", ErrNoSuchObject, st.Name, def.ObjectType)
	}
	var known bool
	switch def.ObjectType {
	case Agent:
		known = slices.Contains(e.cfg.Agents, def.ObjectID)
	case GroupAgents:
		_, known = e.cfg.Groups[def.ObjectID]
	case Queue:
		known = slices.Contains(e.cfg.Queues, def.ObjectID)
	case Tenant:
		known = def.ObjectID == e.cfg.Tenant
	}
	if !known {
		return fmt.Errorf("%w: %s %q", ErrNoSuchObject, def.ObjectType, def.ObjectID)
	}
	return nil
}

// bind resolves the time profile and range s's category needs, clearing
// those it does not, so that equal statistics have equal definitions.
func (e *Engine) bind(s *statistic, def *Definition) error {
	if s.st.Category.current() {
		def.TimeProfile = ""
	} else {
		if def.TimeProfile == "" {
			def.TimeProfile = DefaultProfile
		}
		p, ok := e.cfg.Profiles[def.TimeProfile]
		if !ok {
			return fmt.Errorf("%w: time profile %q", ErrNoSuchStatType, def.TimeProfile)
		}
		s.hist = newHistory(p)
	}
	if !s.st.Category.needsRange() {
		def.TimeRange = ""
		return nil
	}
	r, ok := e.cfg.Ranges[def.TimeRange]
	if !ok {
		return fmt.Errorf("%w: time range %q", ErrNoSuchStatType, def.TimeRange)
	}
	s.rng = r
	return nil
}

// Close drops a holder of def; the statistic closes with its last one.
func (e *Engine) Close(def Definition) error {
	s, ok := e.stats[def]
	if !ok {
		return fmt.Errorf("%w: %+v", ErrNoSuchStatistic, def)
	}
	if s.refs--; s.refs > 0 {
		return nil
	}
	delete(e.stats, def)
	k := objKey{def.ObjectType, def.ObjectID}
	e.byObject[k] = slices.DeleteFunc(e.byObject[k], func(x *statistic) bool { return x == s })
	if len(e.byObject[k]) == 0 {
		delete(e.byObject, k)
	}
	return nil
}

// IsOpen reports whether def is open.
func (e *Engine) IsOpen(def Definition) bool { _, ok := e.stats[def]; return ok }

// Definitions returns the open statistics, sorted.
func (e *Engine) Definitions() []Definition {
	defs := slices.Collect(maps.Keys(e.stats))
	slices.SortFunc(defs, CompareDefinitions)
	return defs
}

// CompareDefinitions orders definitions by object type, object, stat type,
// time profile and time range, for slices.SortFunc.
func CompareDefinitions(a, b Definition) int {
	return slices.Compare([]string{string(a.ObjectType), a.ObjectID, a.StatType, a.TimeProfile, a.TimeRange},
		[]string{string(b.ObjectType), b.ObjectID, b.StatType, b.TimeProfile, b.TimeRange})
}

// NextReset returns the next reset point of def's Growing time profile
// after now, and false for any other statistic.
func (e *Engine) NextReset(def Definition, now time.Time) (time.Time, bool) {
	s, ok := e.stats[def]
	if !ok || s.hist == nil || s.hist.p.Kind != Growing {
		return time.Time{}, false
	}
	return s.hist.p.nextReset(now), true
}

// History returns the historical aggregate of def, for the HA peer; ok is
// false for a current or closed statistic.
func (e *Engine) History(def Definition) (History, bool) {
	s, ok := e.stats[def]
	if !ok || s.hist == nil {
		return History{}, false
	}
	return s.hist.snapshot(), true
}

// Adopt opens def, which the HA peer has open, with the historical
// aggregate h the peer had counted up to its event position: events up to
// it are not counted again. When def is open already, h is merged instead.
func (e *Engine) Adopt(def Definition, h History, position int64, now time.Time) (Definition, error) {
	if _, ok := e.stats[def]; ok {
		e.Merge(def, h, position, now)
		return e.Open(def, now)
	}
	def, err := e.Open(def, now)
	if err != nil {
		return def, err
	}
	if s := e.stats[def]; s.hist != nil {
		s.hist.h = h
		if s.hist.h.Buckets == nil {
			s.hist.h.Buckets = map[int64]Totals{}
		}
		s.from = position
	}
	return def, nil
}

// Merge takes in the peer's historical aggregate of def, counted up to its
// event position (see history.merge): when the peer's is taken, events up
// to that position are not counted again here. A closed or current
// statistic ignores it. Events this Engine counted beyond the peer's
// position are lost when the peer's aggregate replaces its own: the
// double-counting window of the seed, turned into an undercount bounded by
// how far this Engine is ahead of the peer (docs/stat.md).
func (e *Engine) Merge(def Definition, h History, position int64, now time.Time) {
	if s, ok := e.stats[def]; ok && s.hist != nil && s.hist.merge(h, now) {
		s.from = max(s.from, position)
	}
}

// Len returns how many statistics are open.
func (e *Engine) Len() int { return len(e.stats) }

// Define adds the ad-hoc stat type st (RequestOpenStatisticEx) under its
// name, unless a stat type of that name exists, and reports whether it
// added it.
func (e *Engine) Define(st StatType) bool {
	if _, ok := e.cfg.StatTypes[st.Name]; ok {
		return false
	}
	e.cfg.StatTypes[st.Name] = st
	return true
}

// DefineProfile adds the ad-hoc time profile p under its name, unless one
// of that name exists, and reports whether it added it.
func (e *Engine) DefineProfile(p TimeProfile) bool {
	if _, ok := e.cfg.Profiles[p.Name]; ok {
		return false
	}
	e.cfg.Profiles[p.Name] = p
	return true
}

package config

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/stat"
)

// StatServerOptions holds the option sections of a stat-server application
// except [log]: [statserver], [ha], [TimeProfiles], [TimeRanges], the
// agent-group:<name> sections, and every other section, which is a stat
// type named as the section (docs/stat.md).
type StatServerOptions struct {
	Settings StatServerSettings // [statserver]
	HA       StatHAOptions      // [ha]
	// TimeProfiles holds [TimeProfiles] entries "Name,Kind": value, over
	// DefaultTimeProfiles.
	TimeProfiles map[string]string
	// TimeRanges holds [TimeRanges] entries name: "lo-hi", over
	// DefaultTimeRanges.
	TimeRanges map[string]string
	// StatTypes holds the stat type sections by name, each option by name,
	// over DefaultStatTypes (a section replaces the default of its name).
	StatTypes map[string]map[string]string
	// Groups holds the agent-group:<name> sections: agent ids by group.
	Groups map[string]*AgentGroupOptions
}

// StatServerSettings is the [statserver] section.
type StatServerSettings struct {
	// Tenant is tenant (parley's), default "Environment": the name of the
	// one tenant object.
	Tenant string
	// DebugLevel is debug-level: "none" (default) or "HA", which logs the
	// replication between the pair.
	DebugLevel string
	// GenerateStatValidityEvents is generate-stat-validity-events, default
	// true: EventStatInvalid and EventStatValid when the reporting stream
	// is lost and found again.
	GenerateStatValidityEvents bool
	// MaxStatistics is max-statistics (parley's), 1-1000000, default 10000:
	// statistics open at once, over all clients.
	MaxStatistics int
	// MaxMessageSize is max-message-size (parley's), 1024-16777216, default
	// 65536.
	MaxMessageSize int
	// ADDPTimeout is addp-timeout (parley's), 0-3600 s, default 10 s: the
	// keep-alive ping interval on client and stream connections.
	ADDPTimeout time.Duration
}

// StatHAOptions is the [ha] section (public-api-notes §6.1).
type StatHAOptions struct {
	// Listen is listen (parley's placement of Genesys' listening port with
	// ID ha), default empty: host:port of the listener the primary serves
	// the HA link on, and the backup dials. Empty serves it on the
	// application's listen address.
	Listen string
	// ADDPTimeout is addp-timeout, 1-3600 s, default 10 s: the ping
	// interval on the link to the peer.
	ADDPTimeout time.Duration
	// ADDPRemoteTimeout is addp-remote-timeout, 1-3600 s, default 10 s: how
	// long the peer may stay silent before the link is cut.
	ADDPRemoteTimeout time.Duration
	// ADDPTrace is addp-trace: local, remote, both (default) or off;
	// accepted for compatibility (parley keeps no per-ping trace).
	ADDPTrace string
	// ChunkSize is chunk-size, 1-100000, default 5000: statistics pushed to
	// the peer at a time.
	ChunkSize int
	// ChunkTimeout is chunk-timeout, 1-3600 s, default 1 s*: the pause
	// between two chunks.
	ChunkTimeout time.Duration
	// ConnectTimeout is connect-timeout, 1-3600 s, default 5 s*: how often
	// the backup tries to reconnect to the primary.
	ConnectTimeout time.Duration
	// SessionExpirationPeriod is session-expiration-period, 1-86400 s,
	// default 60 s*: how long a cut session can still be restored.
	SessionExpirationPeriod time.Duration
	// SessionExpirationTimeout is session-expiration-timeout, 1-3600 s,
	// default 10 s*: accepted for compatibility (expiration is checked when
	// the backup reconnects).
	SessionExpirationTimeout time.Duration
}

// AgentGroupOptions is an agent-group:<name> section.
type AgentGroupOptions struct {
	// Agents is agents, required: comma-separated agent ids.
	Agents string
}

// DefaultTimeProfiles are the time profiles every stat server has.
var DefaultTimeProfiles = map[string]string{
	"Default,Growing":  "00:00",
	"Last30,Sliding":   "1800:60",
	"Last10,Selection": "10",
	"Hourly,Growing":   "00:00,+01:00",
}

// DefaultTimeRanges are the time ranges every stat server has.
var DefaultTimeRanges = map[string]string{"ServiceLevel": "0-30"}

// DefaultStatTypes are the stat types a chat contact center needs, shipped
// configured (docs/stat.md lists them).
var DefaultStatTypes = map[string]map[string]string{
	"ChatsInQueue":      {"Category": "CurrentNumber", "MainMask": "CallWait", "Objects": "Queue,Tenant"},
	"LongestWait":       {"Category": "CurrentMaxTime", "MainMask": "CallWait", "Objects": "Queue,Tenant"},
	"ChatsEntered":      {"Category": "TotalNumber", "MainMask": "CallEntered", "Objects": "Queue,Tenant"},
	"ChatsHandled":      {"Category": "TotalNumber", "MainMask": "CallInbound", "Objects": "Queue,Tenant,Agent,GroupAgents"},
	"ChatsAbandoned":    {"Category": "TotalNumber", "MainMask": "CallAbandoned", "Objects": "Queue,Tenant"},
	"ChatsTransferred":  {"Category": "TotalNumber", "MainMask": "CallTransferMade", "Objects": "Queue,Tenant,Agent,GroupAgents"},
	"AverageHandleTime": {"Category": "TotalAverageTime", "MainMask": "CallInbound", "Objects": "Queue,Tenant,Agent,GroupAgents"},
	"AverageWaitTime":   {"Category": "TotalAverageTime", "MainMask": "CallDistributed", "Objects": "Queue,Tenant"},
	"ServiceLevel":      {"Category": "ServiceFactor1", "MainMask": "CallDistributed", "RelMask": "CallDistributed,CallAbandoned", "Objects": "Queue,Tenant"},
	"AgentsReady":       {"Category": "CurrentNumber", "Subject": "AgentStatus", "MainMask": "WaitForNextCall", "Objects": "GroupAgents,Tenant"},
	"AgentsBusy":        {"Category": "CurrentNumber", "Subject": "AgentStatus", "MainMask": "CallInbound,CallOnHold,CallRinging", "Objects": "GroupAgents,Tenant"},
	"AgentsNotReady":    {"Category": "CurrentNumber", "Subject": "AgentStatus", "MainMask": "NotReadyForNextCall", "Objects": "GroupAgents,Tenant"},
	"AgentsLoggedIn":    {"Category": "CurrentNumber", "MainMask": "LoggedIn", "Objects": "GroupAgents,Tenant"},
	"ChatsInProgress":   {"Category": "CurrentNumber", "MainMask": "CallInbound", "Objects": "Agent,GroupAgents"},
	"ChatsOnHold":       {"Category": "CurrentNumber", "MainMask": "CallOnHold", "Objects": "Agent,GroupAgents"},
	"AgentState":        {"Category": "CurrentState", "MainMask": "*", "Objects": "Agent"},
	"ChatsOffered":      {"Category": "TotalNumber", "MainMask": "CallRinging", "Objects": "Agent,GroupAgents"},
}

// DefaultStatServerOptions returns every stat-server option at its default.
func DefaultStatServerOptions() StatServerOptions {
	return StatServerOptions{
		Settings: StatServerSettings{Tenant: stat.DefaultTenant, DebugLevel: "none", GenerateStatValidityEvents: true,
			MaxStatistics: 10000, MaxMessageSize: 65536, ADDPTimeout: 10 * time.Second},
		HA: StatHAOptions{ADDPTimeout: 10 * time.Second, ADDPRemoteTimeout: 10 * time.Second, ADDPTrace: "both",
			ChunkSize: 5000, ChunkTimeout: time.Second, ConnectTimeout: 5 * time.Second,
			SessionExpirationPeriod: 60 * time.Second, SessionExpirationTimeout: 10 * time.Second},
		TimeProfiles: maps.Clone(DefaultTimeProfiles),
		TimeRanges:   maps.Clone(DefaultTimeRanges),
		StatTypes:    maps.Clone(DefaultStatTypes),
		Groups:       map[string]*AgentGroupOptions{},
	}
}

func (s *StatServerSettings) section() section {
	return section{
		"tenant":                        &s.Tenant,
		"debug-level":                   &s.DebugLevel,
		"generate-stat-validity-events": &s.GenerateStatValidityEvents,
		"max-statistics":                &s.MaxStatistics,
		"max-message-size":              &s.MaxMessageSize,
		"addp-timeout":                  &s.ADDPTimeout,
	}
}

func (h *StatHAOptions) section() section {
	return section{
		"listen":                     &h.Listen,
		"addp-timeout":               &h.ADDPTimeout,
		"addp-remote-timeout":        &h.ADDPRemoteTimeout,
		"addp-trace":                 &h.ADDPTrace,
		"chunk-size":                 &h.ChunkSize,
		"chunk-timeout":              &h.ChunkTimeout,
		"connect-timeout":            &h.ConnectTimeout,
		"session-expiration-period":  &h.SessionExpirationPeriod,
		"session-expiration-timeout": &h.SessionExpirationTimeout,
	}
}

// section returns the free-form section called name with the keys written
// in it ([TimeProfiles], [TimeRanges], agent-group:<name>, or a stat type),
// and whether name is one. o may be nil: then it is none.
func (o *StatServerOptions) section(name string, keys []string) (section, bool) {
	if o == nil {
		return nil, false
	}
	switch {
	case name == "statserver" || name == "ha" || name == "log" || strings.HasPrefix(name, "client:"):
		return nil, false
	case name == "TimeProfiles":
		return stringsInto(o.TimeProfiles, keys), true
	case name == "TimeRanges":
		return stringsInto(o.TimeRanges, keys), true
	case strings.HasPrefix(name, "agent-group:"):
		g := &AgentGroupOptions{}
		o.Groups[strings.TrimPrefix(name, "agent-group:")] = g
		return section{"agents": &g.Agents}, true
	}
	st := map[string]string{}
	o.StatTypes[name] = st
	return stringsInto(st, keys), true
}

// stringsInto returns a section whose options, keys, are strings stored in
// m once set.
func stringsInto(m map[string]string, keys []string) section {
	s := section{}
	for _, k := range keys {
		s[k] = &stringSink{m: m, k: k}
	}
	return s
}

// stringSink stores a free-form option into its map when set.
type stringSink struct {
	m map[string]string
	k string
}

func (o StatServerOptions) validate() []*Error {
	s, h := o.Settings, o.HA
	errs := collect("statserver",
		nonEmpty("tenant", s.Tenant),
		oneOf("debug-level", s.DebugLevel, "none", "HA"),
		intIn("max-statistics", s.MaxStatistics, 1, 1000000),
		intIn("max-message-size", s.MaxMessageSize, 1024, 16777216),
		secondsIn("addp-timeout", s.ADDPTimeout, 0, 3600))
	errs = append(errs, collect("ha", haListen(h.Listen),
		secondsIn("addp-timeout", h.ADDPTimeout, 1, 3600),
		secondsIn("addp-remote-timeout", h.ADDPRemoteTimeout, 1, 3600),
		oneOf("addp-trace", h.ADDPTrace, "local", "remote", "both", "off"),
		intIn("chunk-size", h.ChunkSize, 1, 100000),
		secondsIn("chunk-timeout", h.ChunkTimeout, 1, 3600),
		secondsIn("connect-timeout", h.ConnectTimeout, 1, 3600),
		secondsIn("session-expiration-period", h.SessionExpirationPeriod, 1, 86400),
		secondsIn("session-expiration-timeout", h.SessionExpirationTimeout, 1, 3600))...)
	_, defErrs := o.Definitions(nil, nil)
	return append(errs, defErrs...)
}

// haListen checks [ha] listen: empty, or host:port.
func haListen(listen string) *Error {
	if listen == "" {
		return nil
	}
	if errs := checkListen(listen); len(errs) > 0 {
		errs[0].Option = "listen"
		return errs[0]
	}
	return nil
}

// Definitions parses the time profiles, time ranges, stat types and agent
// groups into the stat engine's configuration, with agents and queues the
// objects the connected interaction servers define; errors name the section
// and option.
func (o StatServerOptions) Definitions(agents, queues []string) (stat.Config, []*Error) {
	cfg := stat.Config{Tenant: o.Settings.Tenant, Agents: agents, Queues: queues, Groups: map[string][]string{},
		StatTypes: map[string]stat.StatType{}, Profiles: map[string]stat.TimeProfile{}, Ranges: map[string]stat.TimeRange{}}
	var errs []*Error
	fail := func(sec, opt string, err error) {
		errs = append(errs, &Error{Section: sec, Option: opt, Msg: strings.ReplaceAll(err.Error(), "stat: invalid definition: ", "")})
	}
	for _, k := range slices.Sorted(maps.Keys(o.TimeProfiles)) {
		p, err := stat.ParseTimeProfile(k, o.TimeProfiles[k])
		if err != nil {
			fail("TimeProfiles", k, err)
			continue
		}
		cfg.Profiles[p.Name] = p
	}
	for _, k := range slices.Sorted(maps.Keys(o.TimeRanges)) {
		r, err := stat.ParseTimeRange(k, o.TimeRanges[k])
		if err != nil {
			fail("TimeRanges", k, err)
			continue
		}
		cfg.Ranges[k] = r
	}
	if _, ok := cfg.Profiles[stat.DefaultProfile]; !ok && len(errs) == 0 {
		errs = append(errs, &Error{Section: "TimeProfiles", Msg: "no Default time profile (the one of statistics opened without one)"})
	}
	for _, name := range slices.Sorted(maps.Keys(o.StatTypes)) {
		st, err := stat.ParseStatType(name, o.StatTypes[name])
		if err != nil {
			fail(name, "", err)
			continue
		}
		cfg.StatTypes[name] = st
	}
	for _, name := range slices.Sorted(maps.Keys(o.Groups)) {
		var ids []string
		for a := range strings.SplitSeq(o.Groups[name].Agents, ",") {
			if a = strings.TrimSpace(a); a != "" {
				ids = append(ids, a)
			}
		}
		if len(ids) == 0 {
			errs = append(errs, &Error{Section: "agent-group:" + name, Option: "agents", Msg: "missing (want comma-separated agent ids)"})
		}
		cfg.Groups[name] = ids
	}
	return cfg, errs
}

// checkStatConnections lets a stat server connect to interaction servers
// and to at most one other stat server: the primary of the pair it is the
// backup of, which must not be a backup itself.
func (d *Deployment) checkStatConnections(a *Application) []*Error {
	if a.Type != StatServer {
		return nil
	}
	var errs []*Error
	primaries := 0
	for _, c := range a.Connections {
		other, ok := d.Applications[c]
		switch {
		case !ok || c == a.Name:
		case other.Type == StatServer:
			primaries++
			if d.StatPrimary(other) != nil {
				errs = append(errs, &Error{Option: "connections", Value: c, Msg: "the primary of a stat server pair cannot be a backup itself"})
			}
		case other.Type != InteractionServer:
			errs = append(errs, &Error{Option: "connections", Value: c,
				Msg: "a stat-server connects to interaction servers and to its primary stat server only (this is a " + string(other.Type) + ")"})
		}
	}
	if primaries > 1 {
		errs = append(errs, &Error{Option: "connections", Msg: "a stat server is the backup of one primary at most"})
	}
	return append(errs, d.checkStatGroups(a)...)
}

// checkStatGroups refuses an agent group naming an agent that none of the
// interaction servers a connects to defines.
func (d *Deployment) checkStatGroups(a *Application) []*Error {
	if a.Stat == nil {
		return nil
	}
	known := map[string]bool{}
	for _, c := range a.Connections {
		if other := d.Applications[c]; other != nil && other.Ixn != nil {
			for id := range other.Ixn.Agents {
				known[id] = true
			}
		}
	}
	var errs []*Error
	for _, name := range slices.Sorted(maps.Keys(a.Stat.Groups)) {
		for id := range strings.SplitSeq(a.Stat.Groups[name].Agents, ",") {
			if id = strings.TrimSpace(id); id != "" && !known[id] {
				errs = append(errs, &Error{Section: "agent-group:" + name, Option: "agents", Value: id,
					Msg: "no such agent in the interaction servers this stat server connects to"})
			}
		}
	}
	return errs
}

// StatPrimary returns the stat server a is the backup of, or nil when a is
// a primary or alone.
func (d *Deployment) StatPrimary(a *Application) *Application {
	for _, c := range a.Connections {
		if other, ok := d.Applications[c]; ok && other.Type == StatServer && c != a.Name {
			return other
		}
	}
	return nil
}

// StatBackup returns the stat server that is a's backup, or nil.
func (d *Deployment) StatBackup(a *Application) *Application {
	for _, name := range d.Names() {
		if other := d.Applications[name]; other.Type == StatServer && d.StatPrimary(other) == a {
			return other
		}
	}
	return nil
}

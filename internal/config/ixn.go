package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/ixn"
)

// InteractionServerOptions holds the option sections of an
// interaction-server application except [log]: [settings] and the named
// sections queue:<name>, view:<name> and agent:<id>.
type InteractionServerOptions struct {
	Settings InteractionSettings // [settings]
	// Queues holds the queue:<name> sections by name. With none configured,
	// DefaultQueues supplies "default" with built-in routing.
	Queues map[string]*QueueOptions
	Views  map[string]*ViewOptions  // view:<name> sections by name
	Agents map[string]*AgentOptions // agent:<id> sections by agent id
	// Reasons holds the not-ready-reason:<code> sections by code: the Not
	// Ready reasons agents may give. With none, a reason is free text.
	Reasons map[string]*ReasonOptions
	// Cluster is [cluster-settings]: what the node of this server takes in
	// an interaction server cluster.
	Cluster NodeSettings
}

// InteractionSettings is the [settings] section of an interaction server.
// Durations are whole seconds in the file. The zero value is not valid:
// start from DefaultInteractionServerOptions.
type InteractionSettings struct {
	// InviteTimeout is invite-timeout, 1-3600 s, default 30 s: how long an
	// agent has to accept an invitation before it is revoked.
	InviteTimeout time.Duration
	// RerouteExclude is reroute-exclude, 0-86400 s, default 60 s: how long an
	// agent that rejected an interaction, or let its invitation time out, is
	// not invited to it again.
	RerouteExclude time.Duration
	// AsyncLastAgentAttempts is async-last-agent-attempts, 0-100, default 3:
	// how many invitations an async chat woken by customer activity makes to
	// its last agent before any agent may get it.
	AsyncLastAgentAttempts int
	// AsyncLastAgentTimeout is async-last-agent-timeout (parley's own
	// option), 0-86400 s, default 300 s: how long such a chat waits for its
	// last agent at most, from its wake-up, before any agent may get it; 0
	// waits as long as attempts remain.
	AsyncLastAgentTimeout time.Duration
	// AgentReconnectTimeout is agent-reconnect-timeout (parley's own
	// option), 0-86400 s, default 120 s: how long the chats an agent holds
	// stay with it once it is logged out (its desktop's connection dropped,
	// its web API died, or the server restarted or switched over to its
	// backup), so that it gets them back when it logs in again; then they
	// are routed again. 0 keeps them with the agent until it leaves them.
	AgentReconnectTimeout time.Duration
	// AllowMultipleAgentConnections is allow-multiple-agent-connections:
	// "true" (default) lets an agent log in on several connections, "false"
	// refuses later logins, "force-logout" closes the earlier connections.
	AllowMultipleAgentConnections string
	// AgentLoginControl is agent-login-control: "none" (default) or
	// "ignore", which ignores the place of a RequestAgentLogin and logs the
	// agent in at its own id, as every node of a cluster then agrees on.
	AgentLoginControl string
	// NotReadyOnInvitationTimeout is not-ready-on-invitation-timeout,
	// default false: an agent that lets an invitation time out becomes not
	// ready.
	NotReadyOnInvitationTimeout bool
	// MaxInteractionsPerSnapshot is max-interactions-per-snapshot, 100-10000,
	// default 500: the most interactions one RequestTakeSnapshot holds.
	MaxInteractionsPerSnapshot int
	// RequiredSkillKey is required-skill-key (parley's own option), default
	// "RequiredSkill": the interaction property naming a required skill as
	// "name" or "name:minLevel".
	RequiredSkillKey string
	// MaxMessageSize is max-message-size, 1024-16777216 bytes, default 65536.
	MaxMessageSize int
	// ADDPTimeout is addp-timeout, 0-3600 s, default 10 s: the keep-alive
	// ping interval; 0 turns pings off.
	ADDPTimeout time.Duration
}

// QueueOptions is a queue:<name> section.
type QueueOptions struct {
	// Routing is routing: "builtin" (default), the server's own router, or
	// "external", a routing client pulls and delivers.
	Routing string
	// Greeting is greeting, default "": a message said in every chat
	// submitted to the queue (through ESP); empty says nothing.
	Greeting string
	// WaitingNotice is waiting-notice, default "": a message said in a chat
	// every WaitingNoticeInterval while it waits in the queue; empty says
	// nothing.
	WaitingNotice string
	// WaitingNoticeInterval is waiting-notice-interval, 1-86400 s, default
	// 60 s.
	WaitingNoticeInterval time.Duration
}

// ViewOptions is a view:<name> section.
type ViewOptions struct {
	// Queue is queue, required: the queue:<name> the view looks at.
	Queue string
	// Condition is condition, default empty (everything); see
	// ixn.ParseCondition.
	Condition string
	// Order is order, default "SubmittedAt asc"; see ixn.ParseOrder.
	Order string
	// CheckInterval is check-interval, 0-86400 s, default 30 s: the time
	// between two checks; 0 never checks.
	CheckInterval time.Duration
	// Action is action: "none" (default: the view serves pulls only),
	// "route" (interactions it selects in workbins go back to the queue) or
	// "stop" (they are stopped).
	Action string
	// Enabled is enabled, default true.
	Enabled bool
}

// AgentOptions is an agent:<id> section.
type AgentOptions struct {
	// PasswordHash is password-hash, required: the password's salted PBKDF2
	// hash, "pbkdf2-sha256$<iterations>$<salt>$<key>" (ixn.HashPassword,
	// parley hash-password).
	PasswordHash string
	// Place is place, default the agent id: the place it logs in at.
	Place string
	// CapacityChat is capacity-chat, 0-100, default 1: chats at once.
	CapacityChat int
	// Skills is skills, default none: "billing:5,english:3".
	Skills string
	// Tenant is tenant, default "": whose Not Ready reasons the agent may
	// give (besides those of every tenant).
	Tenant string
	// Supervisor is supervisor, default false: whether the agent may
	// intrude into other agents' interactions (RequestIntrude).
	Supervisor bool
}

// ReasonOptions is a not-ready-reason:<code> section.
type ReasonOptions struct {
	// Label is label, required: what desktops show for the code.
	Label string
	// Tenant is tenant, default "": the tenant whose agents may give it;
	// empty offers it to every agent.
	Tenant string
}

// DefaultInteractionServerOptions returns every interaction-server option at
// its default, with no named sections.
func DefaultInteractionServerOptions() InteractionServerOptions {
	return InteractionServerOptions{
		Settings: InteractionSettings{
			InviteTimeout:                 30 * time.Second,
			RerouteExclude:                60 * time.Second,
			AsyncLastAgentAttempts:        3,
			AsyncLastAgentTimeout:         300 * time.Second,
			AgentReconnectTimeout:         120 * time.Second,
			AllowMultipleAgentConnections: "true",
			AgentLoginControl:             "none",
			RequiredSkillKey:              ixn.DefaultSkillKey,
			MaxInteractionsPerSnapshot:    ixn.DefaultSnapshotSize,
			MaxMessageSize:                65536,
			ADDPTimeout:                   10 * time.Second,
		},
		Queues:  map[string]*QueueOptions{},
		Views:   map[string]*ViewOptions{},
		Agents:  map[string]*AgentOptions{},
		Reasons: map[string]*ReasonOptions{},
	}
}

// QueueNames returns the configured queues, or "default" when none is.
func (o InteractionServerOptions) QueueNames() []string {
	if len(o.Queues) == 0 {
		return []string{DefaultQueue}
	}
	return slices.Sorted(maps.Keys(o.Queues))
}

func (s *InteractionSettings) section() section {
	return section{
		"invite-timeout":                   &s.InviteTimeout,
		"reroute-exclude":                  &s.RerouteExclude,
		"async-last-agent-attempts":        &s.AsyncLastAgentAttempts,
		"async-last-agent-timeout":         &s.AsyncLastAgentTimeout,
		"agent-reconnect-timeout":          &s.AgentReconnectTimeout,
		"allow-multiple-agent-connections": &s.AllowMultipleAgentConnections,
		"agent-login-control":              &s.AgentLoginControl,
		"not-ready-on-invitation-timeout":  &s.NotReadyOnInvitationTimeout,
		"required-skill-key":               &s.RequiredSkillKey,
		"max-interactions-per-snapshot":    &s.MaxInteractionsPerSnapshot,
		"max-message-size":                 &s.MaxMessageSize,
		"addp-timeout":                     &s.ADDPTimeout,
	}
}

// section returns the named section called name (queue:<name>,
// view:<name>, agent:<id> or not-ready-reason:<code>), adding it with its defaults, and whether name
// is one. o may be nil: then it is none.
func (o *InteractionServerOptions) section(name string) (section, bool) {
	kind, key, ok := strings.Cut(name, ":")
	if o == nil || !ok {
		return nil, false
	}
	switch kind {
	case "queue":
		q := &QueueOptions{Routing: string(ixn.RoutingBuiltin), WaitingNoticeInterval: time.Minute}
		o.Queues[key] = q
		return section{"routing": &q.Routing, "greeting": &q.Greeting, "waiting-notice": &q.WaitingNotice,
			"waiting-notice-interval": &q.WaitingNoticeInterval}, true
	case "view":
		v := &ViewOptions{CheckInterval: 30 * time.Second, Action: string(ixn.ActionNone), Enabled: true}
		o.Views[key] = v
		return section{"queue": &v.Queue, "condition": &v.Condition, "order": &v.Order,
			"check-interval": &v.CheckInterval, "action": &v.Action, "enabled": &v.Enabled}, true
	case "agent":
		a := &AgentOptions{Place: key, CapacityChat: 1}
		o.Agents[key] = a
		return section{"password-hash": &a.PasswordHash, "place": &a.Place,
			"capacity-chat": &a.CapacityChat, "skills": &a.Skills, "tenant": &a.Tenant, "supervisor": &a.Supervisor}, true
	case "not-ready-reason":
		r := &ReasonOptions{}
		o.Reasons[key] = r
		return section{"label": &r.Label, "tenant": &r.Tenant}, true
	}
	return nil, false
}

// Validate checks every option against its range or its allowed values, and
// the views' queues, conditions and orders, the agents' password hashes and
// skills. It returns *Error values (joined when there are several) naming
// the section and option; File and App are left for the caller to fill in.
func (o InteractionServerOptions) Validate() error {
	return joinErrors(o.validate())
}

func (o InteractionServerOptions) validate() []*Error {
	s := o.Settings
	errs := collect("settings",
		secondsIn("invite-timeout", s.InviteTimeout, 1, 3600),
		secondsIn("reroute-exclude", s.RerouteExclude, 0, 86400),
		intIn("async-last-agent-attempts", s.AsyncLastAgentAttempts, 0, 100),
		secondsIn("async-last-agent-timeout", s.AsyncLastAgentTimeout, 0, 86400),
		secondsIn("agent-reconnect-timeout", s.AgentReconnectTimeout, 0, 86400),
		oneOf("allow-multiple-agent-connections", s.AllowMultipleAgentConnections, "true", "false", "force-logout"),
		oneOf("agent-login-control", s.AgentLoginControl, "none", "ignore"),
		nonEmpty("required-skill-key", s.RequiredSkillKey),
		intIn("max-interactions-per-snapshot", s.MaxInteractionsPerSnapshot, 100, 10000),
		intIn("max-message-size", s.MaxMessageSize, 1024, 16777216),
		secondsIn("addp-timeout", s.ADDPTimeout, 0, 3600),
	)
	errs = append(errs, o.Cluster.validate()...)
	for _, name := range slices.Sorted(maps.Keys(o.Queues)) {
		q := o.Queues[name]
		errs = append(errs, collect("queue:"+name, validKey(name),
			oneOf("routing", q.Routing, string(ixn.RoutingBuiltin), string(ixn.RoutingExternal)),
			secondsIn("waiting-notice-interval", q.WaitingNoticeInterval, 1, 86400))...)
	}
	for _, name := range slices.Sorted(maps.Keys(o.Views)) {
		errs = append(errs, collect("view:"+name, o.Views[name].checks(name, o.QueueNames())...)...)
	}
	for _, id := range slices.Sorted(maps.Keys(o.Agents)) {
		errs = append(errs, collect("agent:"+id, o.Agents[id].checks(id)...)...)
	}
	for _, code := range slices.Sorted(maps.Keys(o.Reasons)) {
		errs = append(errs, collect("not-ready-reason:"+code, validKey(code), nonEmpty("label", o.Reasons[code].Label))...)
	}
	return errs
}

func (v *ViewOptions) checks(name string, queues []string) []*Error {
	checks := []*Error{validKey(name), secondsIn("check-interval", v.CheckInterval, 0, 86400),
		oneOf("action", v.Action, string(ixn.ActionNone), string(ixn.ActionRoute), string(ixn.ActionStop))}
	switch {
	case v.Queue == "":
		checks = append(checks, &Error{Option: "queue", Msg: "missing (want the name of a queue:<name> section)"})
	case !slices.Contains(queues, v.Queue):
		checks = append(checks, &Error{Option: "queue", Value: v.Queue, Msg: "no such queue (have " + strings.Join(queues, ", ") + ")"})
	}
	if _, err := ixn.ParseCondition(v.Condition); err != nil {
		checks = append(checks, &Error{Option: "condition", Value: fmt.Sprintf("%q", v.Condition), Msg: strings.TrimPrefix(err.Error(), "ixn: condition: ")})
	}
	if _, err := ixn.ParseOrder(v.Order); err != nil {
		checks = append(checks, &Error{Option: "order", Value: fmt.Sprintf("%q", v.Order), Msg: "want \"name [asc|desc]\", comma-separated"})
	}
	return checks
}

func (a *AgentOptions) checks(id string) []*Error {
	checks := []*Error{validKey(id), intIn("capacity-chat", a.CapacityChat, 0, 100)}
	if err := ixn.CheckPasswordHash(a.PasswordHash); err != nil {
		checks = append(checks, &Error{Option: "password-hash", Msg: "want pbkdf2-sha256$<iterations>$<salt>$<key>, from parley hash-password (see docs/ixn.md)"})
	}
	if _, err := ixn.ParseSkills(a.Skills); err != nil {
		checks = append(checks, &Error{Option: "skills", Value: fmt.Sprintf("%q", a.Skills), Msg: "want name:level,... with whole levels"})
	}
	return checks
}

// validKey checks the name part of a named section.
func validKey(name string) *Error {
	if validName.MatchString(name) {
		return nil
	}
	return &Error{Msg: "invalid name (letters, digits, '.', '_', '-')"}
}

func nonEmpty(option, v string) *Error {
	if v != "" {
		return nil
	}
	return &Error{Option: option, Msg: "empty value"}
}

package ixn

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// State is where an interaction is in its life.
type State string

// The states of an interaction. A stopped interaction leaves the engine; the
// state appears only in the reporting log and in what Stop returns.
const (
	// StateQueued: waiting in its queue for routing or a pull.
	StateQueued State = "queued"
	// StateRouting: taken out of its queue, either invited to an agent by
	// the router or pulled by a routing client.
	StateRouting State = "routing"
	// StateHandling: held by one agent, or several in a conference.
	StateHandling State = "handling"
	// StateInWorkbin: on hold in an agent's workbin.
	StateInWorkbin State = "workbin"
	// StateStopped: processing stopped.
	StateStopped State = "stopped"
)

// Party is one agent's stay on an interaction, kept as its history.
type Party struct {
	AgentID string    `json:"agentId"`
	How     string    `json:"how"` // route, deliver, transfer, conference or pull
	Joined  time.Time `json:"joined"`
	Left    time.Time `json:"left,omitzero"`
}

// Interaction is one interaction: for parley, a chat, whose id is the chat
// session id. Values handed out by the Engine are copies.
type Interaction struct {
	ID          string            `json:"interactionId"`
	Tenant      string            `json:"tenant,omitempty"`
	MediaType   string            `json:"mediaType"`
	State       State             `json:"state"`
	Queue       string            `json:"queue"` // the queue it is in, or was in last
	Workbin     string            `json:"workbin,omitempty"`
	WorkbinOf   string            `json:"workbinAgentId,omitempty"` // whose workbin
	Agents      []string          `json:"agents,omitempty"`         // the agents holding it
	Strategy    string            `json:"strategy,omitempty"`       // the routing client that pulled it
	Properties  map[string]string `json:"properties"`
	SubmittedBy string            `json:"submittedBy"`
	SubmittedAt time.Time         `json:"submittedAt"`
	PlacedAt    time.Time         `json:"placedAt"` // entered its queue or workbin
	Parties     []Party           `json:"parties,omitempty"`
	LastAgent   string            `json:"lastAgentId,omitempty"`
	// PreferAgent is the agent the router waits for, for PreferAttempts
	// more invitations, after an async interaction woke up.
	PreferAgent    string `json:"preferAgentId,omitempty"`
	PreferAttempts int    `json:"preferAttempts,omitempty"`
}

// clone returns a deep copy of in.
func (in *Interaction) clone() Interaction {
	c := *in
	c.Properties = maps.Clone(in.Properties)
	if c.Properties == nil {
		c.Properties = map[string]string{}
	}
	c.Agents = slices.Clone(in.Agents)
	c.Parties = slices.Clone(in.Parties)
	return c
}

// holds reports whether agent holds in.
func (in *Interaction) holds(agent string) bool { return slices.Contains(in.Agents, agent) }

// Routing is how a queue's interactions reach agents.
type Routing string

// The routing modes of a queue.
const (
	// RoutingBuiltin: the engine's router invites ready agents.
	RoutingBuiltin Routing = "builtin"
	// RoutingExternal: a routing client pulls and delivers.
	RoutingExternal Routing = "external"
)

// Queue is an interaction queue.
type Queue struct {
	Name    string
	Routing Routing
	// Greeting, when set, is said in a chat submitted to the queue (an ESP
	// Message, see treatment.go).
	Greeting string
	// WaitingNotice, when set, is said in a chat waiting in the queue every
	// WaitingInterval (which must then be positive).
	WaitingNotice   string
	WaitingInterval time.Duration
}

// ViewAction is what the engine does with the interactions a view selects
// at each check.
type ViewAction string

// The actions of a view.
const (
	// ActionNone: the view only serves pulls.
	ActionNone ViewAction = "none"
	// ActionRoute: matching interactions in a workbin go back to their queue.
	ActionRoute ViewAction = "route"
	// ActionStop: matching interactions are stopped.
	ActionStop ViewAction = "stop"
)

// View selects the interactions of a queue that are waiting there or on hold
// in a workbin, by a condition, in an order.
type View struct {
	Name      string
	Queue     string
	Condition string // see ParseCondition; empty matches all
	Order     string // see ParseOrder; empty is SubmittedAt asc
	// CheckInterval is the time between two checks; zero never checks.
	CheckInterval time.Duration
	Action        ViewAction
}

// OrderKey is one key of a view order: a property, or SubmittedAt.
type OrderKey struct {
	Name string
	Desc bool
}

// ParseOrder parses a view order: comma-separated keys, each a property name
// or SubmittedAt, optionally followed by asc or desc. The empty order is
// SubmittedAt asc.
func ParseOrder(s string) ([]OrderKey, error) {
	if strings.TrimSpace(s) == "" {
		return []OrderKey{{Name: "SubmittedAt"}}, nil
	}
	var keys []OrderKey
	for part := range strings.SplitSeq(s, ",") {
		f := strings.Fields(part)
		if len(f) == 0 || len(f) > 2 || !isIdent(f[0]) {
			return nil, fmt.Errorf("%w: order %q: want \"name [asc|desc]\"", ErrInvalid, part)
		}
		k := OrderKey{Name: f[0]}
		if len(f) == 2 {
			switch strings.ToLower(f[1]) {
			case "asc":
			case "desc":
				k.Desc = true
			default:
				return nil, fmt.Errorf("%w: order %q: want asc or desc", ErrInvalid, part)
			}
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func isIdent(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentPart(s[i]) {
			return false
		}
	}
	return true
}

// Skill is a required skill: a name and the least level that satisfies it.
type Skill struct {
	Name  string
	Level int
}

// ParseSkill parses the value of the required-skill property: "name" (any
// level) or "name:minLevel".
func ParseSkill(s string) (Skill, error) {
	name, level, hasLevel := strings.Cut(strings.TrimSpace(s), ":")
	sk := Skill{Name: strings.TrimSpace(name)}
	if sk.Name == "" {
		return Skill{}, fmt.Errorf("%w: skill %q: empty name", ErrInvalid, s)
	}
	if hasLevel {
		n, err := strconv.Atoi(strings.TrimSpace(level))
		if err != nil || n < 0 {
			return Skill{}, fmt.Errorf("%w: skill %q: level must be a whole number >= 0", ErrInvalid, s)
		}
		sk.Level = n
	}
	return sk, nil
}

// ParseSkills parses an agent's skills: "billing:5,english:3"; a skill
// without a level has level 1.
func ParseSkills(s string) (map[string]int, error) {
	skills := map[string]int{}
	if strings.TrimSpace(s) == "" {
		return skills, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		sk, err := ParseSkill(part)
		if err != nil {
			return nil, err
		}
		if !strings.Contains(part, ":") {
			sk.Level = 1
		}
		skills[sk.Name] = sk.Level
	}
	return skills, nil
}

// AgentConfig is an agent as configured: who may log in, where, and what it
// can handle.
type AgentConfig struct {
	ID string
	// PasswordHash is the password's salted PBKDF2 hash (see HashPassword).
	PasswordHash string
	Place        string         // the default place
	Capacity     int            // chat interactions at once
	Skills       map[string]int // skill name -> level
	Tenant       string         // whose Not Ready reasons it may give; empty: those of every tenant
	Supervisor   bool           // may intrude into other agents' interactions
}

// Agent is an agent's current state.
type Agent struct {
	AgentConfig
	LoggedIn bool
	Place    string // where it logged in
	Capacity int    // this login's chat capacity
	Ready    bool
	Reason   string // why not ready
	// Media are the media types of this login (chat at login), NotReadyFor
	// the reason of each one the agent is not ready for, and DND its
	// do-not-disturb: the router offers an interaction only to an agent
	// that takes its media (Agent.takes).
	Media       map[string]bool
	NotReadyFor map[string]string
	DND         bool
	// IdleSince is when the agent last got an invitation, or became ready:
	// the router prefers the agent idle the longest.
	IdleSince time.Time
	held      int // interactions held
	invited   int // invitations pending
}

// load is what counts against the agent's capacity.
func (a *Agent) load() int { return a.held + a.invited }

// free reports whether the router may invite a.
func (a *Agent) free() bool { return a.LoggedIn && a.Ready && a.load() < a.Capacity }

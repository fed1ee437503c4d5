package ixn

import (
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// Target is the recipient of a notice: every connection of a logged-in agent,
// or every connection of the registered client with that name.
type Target struct {
	Agent  string
	Client string
}

// Notice is an event to send. Watchers asks the caller to also send it to the
// clients that subscribed to the interaction (Body.InteractionID) and to no
// connection twice.
type Notice struct {
	To       []Target
	Watchers bool
	Name     string
	Body     Body
}

// Body is the body of every event the engine emits, as notices and in the
// reporting log; unused fields are left out of its JSON.
type Body struct {
	// EventID and Time (epoch milliseconds) are set in reporting events only.
	EventID       int64             `json:"eventId,omitempty"`
	Time          int64             `json:"time,omitempty"`
	InteractionID string            `json:"interactionId,omitempty"`
	AgentID       string            `json:"agentId,omitempty"`
	Place         string            `json:"place,omitempty"`
	Queue         string            `json:"queue,omitempty"`
	Workbin       string            `json:"workbin,omitempty"`
	MediaType     string            `json:"mediaType,omitempty"`
	SubmittedBy   string            `json:"submittedBy,omitempty"`
	Kind          string            `json:"kind,omitempty"` // of an invitation: route, deliver, transfer or conference
	From          string            `json:"fromAgentId,omitempty"`
	Reason        string            `json:"reason,omitempty"`
	Operation     string            `json:"operation,omitempty"` // of a workbin change: placed_in or taken_out
	Timeout       int               `json:"timeout,omitempty"`   // of an invitation, in seconds
	Properties    map[string]string `json:"properties,omitempty"`
	Changed       []string          `json:"changed,omitempty"`    // property keys changed, added or deleted
	Status        *AgentStatus      `json:"status,omitempty"`     // of EventCurrentAgentStatus
	LockedBy      string            `json:"lockedBy,omitempty"`   // of EventLocked and EventUnlocked
	Client        string            `json:"clientName,omitempty"` // the publisher of EventUserEvent
}

// Output is what an operation did, for the caller to carry out in order:
// write Batch, then send Notices (and the log events to reporting clients).
type Output struct {
	Batch   Batch
	Notices []Notice
	// Services are the ESP requests of the queues' treatments, sent after
	// the notices (treatment.go).
	Services []ServiceRequest
}

// Empty reports whether o has nothing to do.
func (o Output) Empty() bool { return o.Batch.Empty() && len(o.Notices) == 0 && len(o.Services) == 0 }

// pending gathers the output of the operation under way.
type pending struct {
	notices  []Notice
	services []ServiceRequest
	events   []LogEvent
	dirty    map[string]bool // interaction ids to save
	deleted  []string
}

// begin starts gathering the output of an operation.
func (e *Engine) begin() { e.out = pending{dirty: map[string]bool{}} }

// finish returns the gathered output with copies of the changed interactions.
func (e *Engine) finish() Output {
	var o Output
	for _, id := range slices.Sorted(maps.Keys(e.out.dirty)) {
		if in, ok := e.ixns[id]; ok {
			o.Batch.Saves = append(o.Batch.Saves, in.clone())
		}
	}
	o.Batch.Deletes, o.Batch.Events, o.Notices, o.Services = e.out.deleted, e.out.events, e.out.notices, e.out.services
	e.out = pending{}
	return o
}

// notify queues a notice.
func (e *Engine) notify(name string, body Body, watchers bool, to ...Target) {
	e.out.notices = append(e.out.notices, Notice{To: to, Watchers: watchers, Name: name, Body: body})
}

// report appends a reporting event, numbering it.
func (e *Engine) report(now time.Time, name string, body Body) {
	e.lastEventID++
	body.EventID, body.Time = e.lastEventID, now.UnixMilli()
	raw, err := json.Marshal(body)
	if err != nil {
		panic("ixn: marshal report: " + err.Error()) // a Body always marshals
	}
	e.out.events = append(e.out.events, LogEvent{ID: e.lastEventID, Time: now, Name: name, Body: raw})
}

// save marks in as changed.
func (e *Engine) save(in *Interaction) { e.out.dirty[in.ID] = true }

// parties returns the targets that follow in: its submitter, the agents
// holding it and the agent invited to it.
func (e *Engine) parties(in *Interaction) []Target {
	to := []Target{{Client: in.SubmittedBy}}
	for _, a := range in.Agents {
		to = append(to, Target{Agent: a})
	}
	if inv, ok := e.invites[in.ID]; ok && !in.holds(inv.agent) {
		to = append(to, Target{Agent: inv.agent})
	}
	return to
}

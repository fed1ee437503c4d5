package chat

import (
	"fmt"
	"strconv"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// StopPolicy is the chat server's stop-abandoned-interaction: when the
// interaction of a finished chat is stopped at the interaction server.
type StopPolicy string

// The stop-abandoned-interaction values. Bots (External parties) never
// count as agents; supervisors do.
const (
	StopNever    StopPolicy = "never"    // never stopped: a workflow follows IsOnline
	StopAlways   StopPolicy = "always"   // always stopped
	StopNoAgents StopPolicy = "noagents" // stopped when no agent was present as the customer left
	StopNoAnswer StopPolicy = "noanswer" // stopped when no agent ever joined
)

// ParseStopPolicy reads a stop-abandoned-interaction value, with the legacy
// "false" (never) and "true" (noanswer) of older Chat Servers.
func ParseStopPolicy(v string) (StopPolicy, error) {
	switch v {
	case "false":
		return StopNever, nil
	case "true":
		return StopNoAnswer, nil
	}
	switch p := StopPolicy(v); p {
	case StopNever, StopAlways, StopNoAgents, StopNoAnswer:
		return p, nil
	}
	return "", fmt.Errorf("%w: stop-abandoned-interaction %q", ErrInvalid, v)
}

// Ending is what a finished chat's transcript says about how it ended, for
// the interaction it belongs to.
type Ending struct {
	// Answered is set when an agent or supervisor joined at some point.
	Answered bool
	// AgentPresent is set when an agent or supervisor was present as the
	// last customer left (or at the end, when no customer left).
	AgentPresent bool
	// Stats are the session statistics, in a fixed order.
	Stats []Stat
}

// Stat is one session statistic attached to the interaction's user data.
type Stat struct {
	Name  string
	Value int64
	Fired bool // it was encountered during the session
}

// The names of the session statistics (parley's: Genesys does not publish
// the keys its Chat Server attaches). Durations are whole seconds.
const (
	StatDuration       = "ChatStatDuration"
	StatAnswerDelay    = "ChatStatAnswerDelay" // from creation to the first agent's join
	StatAgentsJoined   = "ChatStatAgentsJoined"
	StatBotsJoined     = "ChatStatBotsJoined"
	StatClientMessages = "ChatStatClientMessages"
	StatAgentMessages  = "ChatStatAgentMessages"
	StatBotMessages    = "ChatStatBotMessages"
	StatFilesUploaded  = "ChatStatFilesUploaded"
	StatIdleAlerts     = "ChatStatIdleAlerts"
	StatAbandoned      = "ChatStatAbandoned" // 1: the customer left with no agent present
)

// Stop reports whether policy p stops the interaction of a chat that ended
// as e says.
func (e Ending) Stop(p StopPolicy) bool {
	switch p {
	case StopAlways:
		return true
	case StopNoAgents:
		return !e.AgentPresent
	case StopNoAnswer:
		return !e.Answered
	}
	return false
}

// Attach returns the statistics to attach to the interaction's user data
// under attach-session-statistics level ("none", "fired" or "all").
func (e Ending) Attach(level string) map[string]string {
	out := map[string]string{}
	for _, s := range e.Stats {
		if level == "all" || (level == "fired" && s.Fired) {
			out[s.Name] = strconv.FormatInt(s.Value, 10)
		}
	}
	return out
}

// EndingOf reads the ending of a chat created at created and ended at ended
// from its stored events, in index order.
func EndingOf(events []transcript.Event, created, ended time.Time) Ending {
	var t tally
	types := map[string]transcript.PartyType{}
	for _, ev := range events {
		t.count(ev, types)
	}
	if !t.clientLeft {
		t.presentAtLeave = t.present
	}
	e := Ending{Answered: t.agents > 0, AgentPresent: t.presentAtLeave > 0}
	abandoned := int64(0)
	if !e.AgentPresent {
		abandoned = 1
	}
	delay := int64(0)
	if e.Answered {
		delay = int64(t.firstAgent.Sub(created) / time.Second)
	}
	e.Stats = []Stat{
		{StatDuration, int64(ended.Sub(created) / time.Second), true},
		{StatAnswerDelay, delay, e.Answered},
		counted(StatAgentsJoined, t.agents), counted(StatBotsJoined, t.bots),
		counted(StatClientMessages, t.messages[transcript.Client]),
		counted(StatAgentMessages, t.messages[transcript.Agent]+t.messages[transcript.Supervisor]),
		counted(StatBotMessages, t.messages[transcript.External]),
		counted(StatFilesUploaded, t.files), counted(StatIdleAlerts, t.alerts),
		counted(StatAbandoned, abandoned),
	}
	return e
}

func counted(name string, n int64) Stat { return Stat{name, n, n > 0} }

// tally follows a transcript event by event.
type tally struct {
	present        int64 // agents and supervisors present
	presentAtLeave int64 // present as the last customer left
	clientLeft     bool
	agents, bots   int64 // joins
	firstAgent     time.Time
	messages       map[transcript.PartyType]int64
	files, alerts  int64
}

func (t *tally) count(ev transcript.Event, types map[string]transcript.PartyType) {
	switch ev.Type {
	case transcript.ParticipantJoined:
		if ev.Party != nil {
			types[ev.PartyID] = ev.Party.Type
			t.joined(ev)
		}
	case transcript.ParticipantLeft:
		t.left(types[ev.PartyID])
	case transcript.Message:
		if t.messages == nil {
			t.messages = map[transcript.PartyType]int64{}
		}
		t.messages[types[ev.PartyID]]++
	case transcript.FileUploaded:
		t.files++
	case transcript.IdleAlert:
		t.alerts++
	}
}

func (t *tally) joined(ev transcript.Event) {
	switch ev.Party.Type {
	case transcript.Agent, transcript.Supervisor:
		if t.agents == 0 {
			t.firstAgent = ev.Time
		}
		t.agents++
		t.present++
	case transcript.External:
		t.bots++
	}
}

func (t *tally) left(pt transcript.PartyType) {
	switch pt {
	case transcript.Agent, transcript.Supervisor:
		t.present--
	case transcript.Client:
		t.clientLeft = true
		t.presentAtLeave = t.present
	}
}

package stat

// Action is what an object does, named as Genesys Stat Server names its
// actions (docs/stat.md maps each to the reporting events behind it).
// Durable actions last from a start to an end; instantaneous ones happen at
// one moment, some with a duration measured before it (a wait, a ring).
type Action string

// The actions. Agent actions happen on agents (and, through them, on their
// groups); queue actions on queues (and on the tenant).
const (
	// LoggedIn (agent, durable): from login to logout.
	LoggedIn Action = "LoggedIn"
	// WaitForNextCall (agent, durable): ready for chats.
	WaitForNextCall Action = "WaitForNextCall"
	// NotReadyForNextCall (agent, durable): logged in, not ready.
	NotReadyForNextCall Action = "NotReadyForNextCall"
	// CallRinging (agent, durable): an invitation is offered to the agent,
	// until it accepts, rejects, or the invitation is revoked.
	CallRinging Action = "CallRinging"
	// CallAnswered (agent, instantaneous): the agent accepted an
	// invitation; its duration is the ringing time.
	CallAnswered Action = "CallAnswered"
	// CallInbound (agent and queue, durable): the chat is handled. On an
	// agent, while the agent holds it; on a queue, from its acceptance out
	// of the queue to its end or its return to a queue: its TotalTime over
	// TotalNumber is the queue's average handle time.
	CallInbound Action = "CallInbound"
	// CallOnHold (agent, durable): the chat waits in the agent's workbin.
	CallOnHold Action = "CallOnHold"
	// CallTransferMade (agent and queue, instantaneous): the agent's chat
	// was taken by the agent it transferred it to; on a queue, a handled
	// chat was placed in a queue again.
	CallTransferMade Action = "CallTransferMade"
	// CallWait (queue, durable): the chat waits in the queue.
	CallWait Action = "CallWait"
	// CallEntered (queue, instantaneous): the chat was placed in the queue.
	CallEntered Action = "CallEntered"
	// CallDistributed (queue, instantaneous): the chat left the queue for
	// an agent (accepted) or a routing client (pulled); its duration is
	// the time it waited.
	CallDistributed Action = "CallDistributed"
	// CallAbandoned (queue, instantaneous): the chat ended while waiting in
	// the queue; its duration is the time it waited.
	CallAbandoned Action = "CallAbandoned"
)

// Actions lists every action, agent actions first, in status priority order
// within each kind (see Status).
var Actions = []Action{CallInbound, CallOnHold, CallRinging, NotReadyForNextCall, WaitForNextCall, LoggedIn,
	CallAnswered, CallTransferMade, CallWait, CallEntered, CallDistributed, CallAbandoned}

// agentStatus is the priority order of an agent's status: its highest
// current action; LoggedOut when it has none.
var agentStatus = []Action{CallInbound, CallOnHold, CallRinging, NotReadyForNextCall, WaitForNextCall, LoggedIn}

// LoggedOut is the status of an agent with no current action.
const LoggedOut Action = "LoggedOut"

package transcript

import (
	"time"
)

// Visibility says who may see an event. The names are Genesys' (ALL, INT, VIP).
type Visibility string

const (
	// VisAll is seen by every party, the customer included.
	VisAll Visibility = "ALL"
	// VisInt is internal: agents, supervisors and bots, never the client.
	VisInt Visibility = "INT"
	// VisVIP is seen by supervisors only.
	VisVIP Visibility = "VIP"
)

// Valid reports whether v is one of the three visibilities.
func (v Visibility) Valid() bool { return v == VisAll || v == VisInt || v == VisVIP }

// PartyType is the kind of participant, as in GMS Chat API v2 `from.type`.
type PartyType string

const (
	Client     PartyType = "Client"
	Agent      PartyType = "Agent"
	Supervisor PartyType = "Supervisor"
	External   PartyType = "External"
)

// Valid reports whether t is one of the four party types.
func (t PartyType) Valid() bool {
	return t == Client || t == Agent || t == Supervisor || t == External
}

// Sees reports whether a party of type t may see an event of visibility v:
// a client sees only ALL, agents and bots see ALL and INT, a supervisor sees all.
func (t PartyType) Sees(v Visibility) bool {
	switch t {
	case Client:
		return v == VisAll
	case Supervisor:
		return true
	default:
		return v == VisAll || v == VisInt
	}
}

// EventType is the transcript event type, named as in GMS Chat API v2 `type`.
type EventType string

const (
	ParticipantJoined EventType = "ParticipantJoined"
	ParticipantLeft   EventType = "ParticipantLeft"
	Message           EventType = "Message"
	TypingStarted     EventType = "TypingStarted"
	TypingStopped     EventType = "TypingStopped"
	PushURL           EventType = "PushUrl"
	NicknameUpdated   EventType = "NicknameUpdated"
	CustomNotice      EventType = "CustomNotice"
	Notice            EventType = "Notice"
	FileUploaded      EventType = "FileUploaded"
	FileDeleted       EventType = "FileDeleted"
	IdleAlert         EventType = "IdleAlert"
	IdleClose         EventType = "IdleClose"
	// ReadReceipt says a client has read the transcript up to the position
	// in its userData transcriptPosition; only agents and supervisors see
	// it, and it is never stored.
	ReadReceipt EventType = "ReadReceipt"
)

// Reason is a participant leave reason code (quit-reason-code, public-api-notes §3.6).
type Reason int

const (
	// ReasonNone marks a leave without a code (a plain "left").
	ReasonNone Reason = -1
	// ReasonLogout is a logout request by the party itself.
	ReasonLogout Reason = 0
	// ReasonForceClose is a leave with request to close forcedly (the ForceClose after-action).
	ReasonForceClose Reason = 2
	// ReasonDisconnect is removal for protocol inactivity or a dropped connection.
	ReasonDisconnect Reason = 3
	// ReasonRemoved is removal by another participant.
	ReasonRemoved Reason = 4
	// ReasonServer is removal by the server (workflow stop, non-recoverable store error).
	ReasonServer Reason = 5
	// ReasonBadKey is removal for a wrong secure key.
	ReasonBadKey Reason = 6
	// ReasonIdle is removal for session inactivity.
	ReasonIdle Reason = 7
	// ReasonRestored marks a party normalised away during restoration.
	ReasonRestored Reason = 8
)

// Text is the transcript wording of a reason, as in the chatTranscript samples.
func (r Reason) Text() string {
	switch r {
	case ReasonLogout:
		return "left with request to logout"
	case ReasonForceClose:
		return "left with request to close forcedly"
	case ReasonDisconnect:
		return "left due to disconnect"
	case ReasonRemoved:
		return "removed by other party"
	case ReasonServer:
		return "removed by server"
	case ReasonBadKey:
		return "removed due to bad secure key"
	case ReasonIdle:
		return "removed due to inactivity"
	case ReasonRestored:
		return "removed during session restoration"
	}
	return "left"
}

// Party is a participant of a session as recorded in the transcript.
type Party struct {
	// ID is the party's userId, unique within the session.
	ID string `json:"userId"`
	// ParticipantID is the small per-session number GMS shows as from.participantId (from 1).
	ParticipantID int       `json:"participantId"`
	Type          PartyType `json:"type"`
	Nickname      string    `json:"nickname"`
	// PersonID is an agent's login; empty for clients.
	PersonID string `json:"personId,omitempty"`
	// Protocol is FLEX for clients, BASIC for agents and supervisors, ESP for workflow parties.
	Protocol string `json:"protocol,omitempty"`
	// Visibility of a joining agent or supervisor: ALL joins openly, INT and VIP join as a coach or monitor.
	Visibility     Visibility        `json:"visibility,omitempty"`
	TimeZoneOffset int               `json:"timeZoneOffset,omitempty"`
	UserData       map[string]string `json:"userData,omitempty"`
	// KeyHash is the SHA-256 of a client's secureKey (hex); empty for other parties.
	// It is kept so that a restored session can authenticate the client; it never
	// appears in a final transcript.
	KeyHash string `json:"keyHash,omitempty"`
}

// Event is one entry of a session transcript.
type Event struct {
	// Index is the transcript position, from 1, without gaps among events of one session.
	Index int       `json:"index"`
	Type  EventType `json:"type"`
	// Time is when the event happened, UTC with millisecond precision.
	Time       time.Time  `json:"time"`
	PartyID    string     `json:"userId"`
	Visibility Visibility `json:"visibility"`
	Text       string     `json:"text,omitempty"`
	// MessageType is the sender's free-form message type (GMS messageType).
	MessageType string            `json:"messageType,omitempty"`
	UserData    map[string]string `json:"userData,omitempty"`
	// EventAttributes are the sender's own attributes of a message or
	// notice (GMS eventAttributes, e.g. purpose=cancel-idle-timer), shown
	// to the parties beside the server's GCTI_SYSTEM node; never a key
	// GCTI_SYSTEM.
	EventAttributes map[string]string `json:"eventAttributes,omitempty"`
	// Party is set on ParticipantJoined: the joining party as it joined.
	Party *Party `json:"party,omitempty"`
	// Reason is set on ParticipantLeft (ReasonNone when no code applies).
	Reason Reason `json:"reason,omitempty"`
	// AskerID is, on ParticipantLeft, who asked for the removal (the party itself when it left).
	AskerID string `json:"askerId,omitempty"`
	// NoticeType is set on Notice and CustomNotice events (USER_CUSTOM, SYSTEM, ...).
	NoticeType string `json:"noticeType,omitempty"`
}

// UTCMillis is the event time as GMS utcTime: epoch milliseconds.
func (e Event) UTCMillis() int64 { return e.Time.UnixMilli() }

package chatserver

import (
	"strconv"

	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// The bodies of the chat server's wire messages. Customer-side requests name
// the client party with sessionId, userId and secureKey; agent-side requests
// name a party that joined on the same connection.

// loginRequest (RequestLogin) creates a session with its client party, as
// GMS Request Chat does.
type loginRequest struct {
	// Service is the GMS service name the chat was requested on; Queue is
	// the queue that service maps to (where the chat is routed).
	Service        string            `json:"service"`
	Queue          string            `json:"queue"`
	Nickname       string            `json:"nickname"`
	FirstName      string            `json:"firstName"`
	LastName       string            `json:"lastName"`
	Subject        string            `json:"subject"`
	EmailAddress   string            `json:"emailAddress"`
	UserData       map[string]string `json:"userData"`
	Text           string            `json:"text"`
	TimeZoneOffset int               `json:"timeZoneOffset"`
}

// partyRef names a party of a session; SecureKey is required on the customer side.
type partyRef struct {
	SessionID string `json:"sessionId"`
	UserID    string `json:"userId"`
	SecureKey string `json:"secureKey"`
}

// refreshRequest (RequestRefresh) returns the events from TranscriptPosition.
type refreshRequest struct {
	partyRef
	TranscriptPosition int `json:"transcriptPosition"`
}

// messageRequest (RequestMessage) sends a message. With TranscriptPosition > 0
// the reply carries the events from there, as GMS send does.
type messageRequest struct {
	partyRef
	Text        string                `json:"text"`
	MessageType string                `json:"messageType"`
	Visibility  transcript.Visibility `json:"visibility"`
	UserData    map[string]string     `json:"userData"`
	// EventAttributes are the sender's own attributes, shown with the message.
	EventAttributes    map[string]string `json:"eventAttributes"`
	TranscriptPosition int               `json:"transcriptPosition"`
}

// notifyRequest (RequestNotify) sends a notice: TypingStarted, TypingStopped,
// PushUrl, CustomNotice or NicknameUpdated. The notices only the chat server
// adds (FileUploaded and FileDeleted after a real upload or delete, joins,
// leaves, system and idle notices) are refused with CodeNotAllowed.
type notifyRequest struct {
	partyRef
	NoticeType transcript.EventType  `json:"noticeType"`
	Text       string                `json:"text"`
	Visibility transcript.Visibility `json:"visibility"`
	UserData   map[string]string     `json:"userData"`
	// EventAttributes are the sender's own attributes, shown with the
	// notice (cancel-idle-timer on a CustomNotice restarts the countdown).
	EventAttributes    map[string]string `json:"eventAttributes"`
	TranscriptPosition int               `json:"transcriptPosition"`
}

// updateDataRequest (RequestUpdateData) merges user data into the session's.
type updateDataRequest struct {
	partyRef
	UserData map[string]string `json:"userData"`
}

// subscribeRequest (RequestSubscribe) makes the connection receive
// EventSessionInfo pushes for the party, first with the events from
// TranscriptPosition. RequestUnsubscribe takes a plain partyRef.
type subscribeRequest struct {
	partyRef
	TranscriptPosition int `json:"transcriptPosition"`
	// Push, when set, makes the subscription permanent: a mobile or
	// custom-http push subscription that no web API ends (see push.go).
	Push *pushDevice `json:"pushNotification,omitempty"`
}

// pushDevice is where a client party's push notifications go: Request
// Chat's userData push_notification_deviceid and push_notification_type.
type pushDevice struct {
	DeviceID string `json:"deviceId"`
	Type     string `json:"type"`
}

// joinRequest (RequestJoin) adds an agent, supervisor or bot party: an
// agent or supervisor with the Grant the interaction server signed for it,
// a bot on a connection admitted as a bot. The reply's secureKey is the new
// party's own key. With UserID it rejoins that party instead, proven by
// that key, on the chat server a session was restored on; the reply then
// carries the events from TranscriptPosition.
type joinRequest struct {
	SessionID          string                `json:"sessionId"`
	UserID             string                `json:"userId"`
	SecureKey          string                `json:"secureKey"`
	Grant              string                `json:"grant"`
	TranscriptPosition int                   `json:"transcriptPosition"`
	Nickname           string                `json:"nickname"`
	PersonID           string                `json:"personId"`
	UserType           transcript.PartyType  `json:"userType"`
	Visibility         transcript.Visibility `json:"visibility"`
	Text               string                `json:"text"`
	UserData           map[string]string     `json:"userData"`
}

// releaseRequest (RequestReleaseParty, and RequestLogout on the customer
// side) removes PartyID, or the requester itself when it is empty.
type releaseRequest struct {
	partyRef
	PartyID     string `json:"partyId"`
	AfterAction string `json:"afterAction"`
	Text        string `json:"text"`
}

// status is the body of EventStatus (a reply) and EventSessionInfo (a push):
// the envelope GMS turns into its REST and CometD replies.
type status struct {
	SessionID    string                  `json:"sessionId"`
	UserID       string                  `json:"userId"`
	SecureKey    string                  `json:"secureKey,omitempty"`
	Alias        string                  `json:"alias"`
	ChatEnded    bool                    `json:"chatEnded"`
	NextPosition int                     `json:"nextPosition"`
	Messages     []transcript.APIMessage `json:"messages"`
	// Push is set on a subscription's reply and on the push that hands a
	// web API a permanent push subscription: the party's device.
	Push *pushDevice `json:"pushNotification,omitempty"`
}

// AppendJSON appends st in an encoding json.Unmarshal reads as it reads
// json.Marshal's (its messages without HTML escaping; wire.JSONAppender): a
// status goes out with every event of every chat, to each party.
func (st status) AppendJSON(b []byte) []byte {
	b = wire.AppendString(append(b, `{"sessionId":`...), st.SessionID)
	b = wire.AppendString(append(b, `,"userId":`...), st.UserID)
	if st.SecureKey != "" {
		b = wire.AppendString(append(b, `,"secureKey":`...), st.SecureKey)
	}
	b = wire.AppendString(append(b, `,"alias":`...), st.Alias)
	b = strconv.AppendBool(append(b, `,"chatEnded":`...), st.ChatEnded)
	b = strconv.AppendInt(append(b, `,"nextPosition":`...), int64(st.NextPosition), 10)
	b = append(b, `,"messages":`...)
	b = transcript.AppendAPIMessages(b, st.Messages)
	if st.Push != nil {
		b = wire.AppendString(append(b, `,"pushNotification":{"deviceId":`...), st.Push.DeviceID)
		b = append(wire.AppendString(append(b, `,"type":`...), st.Push.Type), '}')
	}
	return append(b, '}')
}

package webapi

import "github.com/parley-chat/parley/internal/transcript"

// The bodies of the chat server's customer-side ("flex") messages, as the web
// API sends and reads them. The chat server owns their definition.

// partyRef names a client party of a session.
type partyRef struct {
	SessionID string `json:"sessionId"`
	UserID    string `json:"userId"`
	SecureKey string `json:"secureKey"`
}

// loginBody is RequestLogin.
type loginBody struct {
	Service      string            `json:"service"`
	Queue        string            `json:"queue"`
	Nickname     string            `json:"nickname,omitempty"`
	FirstName    string            `json:"firstName,omitempty"`
	LastName     string            `json:"lastName,omitempty"`
	Subject      string            `json:"subject,omitempty"`
	EmailAddress string            `json:"emailAddress,omitempty"`
	UserData     map[string]string `json:"userData,omitempty"`
	Text         string            `json:"text,omitempty"`
	// TimeZoneOffset is the client's time zone, minutes east of UTC, from
	// userData TimeZone (timeZoneOffset).
	TimeZoneOffset int `json:"timeZoneOffset,omitempty"`
}

// positionBody is RequestRefresh and RequestSubscribe.
type positionBody struct {
	partyRef
	TranscriptPosition int `json:"transcriptPosition"`
	// Push makes a RequestSubscribe a permanent push subscription.
	Push *pushDevice `json:"pushNotification,omitempty"`
}

// messageBody is RequestMessage.
type messageBody struct {
	partyRef
	Text        string `json:"text"`
	MessageType string `json:"messageType,omitempty"`
	// EventAttributes are the party's own attributes of the message.
	EventAttributes    map[string]string `json:"eventAttributes,omitempty"`
	TranscriptPosition int               `json:"transcriptPosition,omitempty"`
}

// notifyBody is RequestNotify.
type notifyBody struct {
	partyRef
	NoticeType transcript.EventType `json:"noticeType"`
	Text       string               `json:"text,omitempty"`
	UserData   map[string]string    `json:"userData,omitempty"`
	// EventAttributes are the party's own attributes of the notice.
	EventAttributes    map[string]string `json:"eventAttributes,omitempty"`
	TranscriptPosition int               `json:"transcriptPosition,omitempty"`
}

// updateDataBody is RequestUpdateData.
type updateDataBody struct {
	partyRef
	UserData map[string]string `json:"userData"`
}

// status is EventStatus (a reply) and EventSessionInfo (a push).
type status struct {
	SessionID    string                  `json:"sessionId"`
	UserID       string                  `json:"userId"`
	SecureKey    string                  `json:"secureKey,omitempty"`
	Alias        string                  `json:"alias"`
	ChatEnded    bool                    `json:"chatEnded"`
	NextPosition int                     `json:"nextPosition"`
	Messages     []transcript.APIMessage `json:"messages"`
	// Push is the party's device when it has a permanent push
	// subscription: on a subscription's reply, and on the push that hands
	// the subscription to this web API.
	Push *pushDevice `json:"pushNotification,omitempty"`
}

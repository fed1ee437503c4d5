package transcript

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// JSON encodes f as JSON in the GMS Chat API v2 message shape
// (public-api-notes §1.5): {"sessionId", "startAt", "messages": [...]}, each
// message with index, type, utcTime (epoch ms), from, text, messageType,
// userData, visibility, and on a ParticipantLeft with a reason code
// eventAttributes.GCTI_SYSTEM["quit-reason-code"]. A party's KeyHash is never
// written. It returns an error wrapping ErrInvalidTranscript if an event
// cannot be encoded.
func (f Final) JSON() ([]byte, error) {
	doc := jsonTranscript{
		SessionID: f.SessionID,
		StartAt:   f.StartAt.UTC().Format(startAtLayout),
		Messages:  make([]APIMessage, 0, len(f.Events)),
	}
	parties := make(map[string]*Party)
	for _, e := range f.Events {
		if err := validate(e); err != nil {
			return nil, err
		}
		sender := e.PartyID
		if e.Type == ParticipantJoined {
			sender = partyID(e)
			parties[sender] = e.Party
		}
		doc.Messages = append(doc.Messages, NewAPIMessage(e, parties[sender]))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	// The transcript is stored, not embedded in HTML: keep <, > and & readable.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("transcript: encode session %s as JSON: %w", f.SessionID, err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

type jsonTranscript struct {
	SessionID string       `json:"sessionId"`
	StartAt   string       `json:"startAt"`
	Messages  []APIMessage `json:"messages"`
}

// APIMessage is one transcript event as GMS Chat API v2 shows it in
// messages[] (public-api-notes §1.5).
type APIMessage struct {
	Index           int                          `json:"index"`
	Type            EventType                    `json:"type"`
	UTCTime         int64                        `json:"utcTime"`
	From            *APIFrom                     `json:"from,omitempty"`
	Text            string                       `json:"text,omitempty"`
	MessageType     string                       `json:"messageType,omitempty"`
	UserData        map[string]string            `json:"userData,omitempty"`
	Visibility      Visibility                   `json:"visibility"`
	EventAttributes map[string]map[string]string `json:"eventAttributes,omitempty"`
}

// APIFrom is the sender of an APIMessage.
type APIFrom struct {
	Nickname      string    `json:"nickname"`
	ParticipantID int       `json:"participantId"`
	Type          PartyType `json:"type"`
}

// NewAPIMessage converts one event; from is the sender, or nil for an event
// of no known party (a system notice), which then has no from.
func NewAPIMessage(e Event, from *Party) APIMessage {
	m := APIMessage{
		Index:       e.Index,
		Type:        e.Type,
		UTCTime:     e.UTCMillis(),
		Text:        e.Text,
		MessageType: e.MessageType,
		UserData:    eventUserData(e),
		Visibility:  e.Visibility,
	}
	if from != nil {
		m.From = &APIFrom{Nickname: from.Nickname, ParticipantID: from.ParticipantID, Type: from.Type}
	}
	if e.Type == ParticipantLeft && e.Reason != ReasonNone {
		m.EventAttributes = map[string]map[string]string{
			"GCTI_SYSTEM": {"quit-reason-code": strconv.Itoa(int(e.Reason))},
		}
	}
	return m
}

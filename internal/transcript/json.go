package transcript

import (
	"strconv"
	"unicode/utf8"
)

// JSON encodes f as JSON in the GMS Chat API v2 message shape
// (public-api-notes §1.5): {"sessionId", "startAt", "messages": [...]}, each
// message with index, type, utcTime (epoch ms), from, text, messageType,
// userData, visibility, and eventAttributes: the sender's own, and on a
// ParticipantLeft with a reason code GCTI_SYSTEM["quit-reason-code"]. A party's KeyHash is never
// written. It returns an error wrapping ErrInvalidTranscript if an event
// cannot be encoded.
//
// The document is written by hand, byte for byte as encoding/json wrote it
// before without HTML escaping (reference_test.go keeps that encoder, and
// FuzzFinalJSON holds this one to it).
func (f Final) JSON() ([]byte, error) {
	b := make([]byte, 0, jsonSizeHint(f))
	b = append(b, `{"sessionId":`...)
	b = appendJSONString(b, f.SessionID)
	b = append(b, `,"startAt":"`...)
	b = f.StartAt.UTC().AppendFormat(b, startAtLayout) // digits and separators: nothing to escape
	b = append(b, `","messages":[`...)
	parties := make(map[string]*Party, 4)
	for i, e := range f.Events {
		if err := validate(e); err != nil {
			return nil, err
		}
		sender := e.PartyID
		if e.Type == ParticipantJoined {
			sender = partyID(e)
			parties[sender] = e.Party
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = newAPIMessage(e, apiFrom(parties[sender])).AppendJSON(b)
	}
	return append(b, "]}"...), nil
}

// jsonSizeHint is a little more than f's JSON usually takes, so that JSON
// allocates its buffer once.
func jsonSizeHint(f Final) int {
	n := 128
	for _, e := range f.Events {
		n += 224 + len(e.Text) + len(e.MessageType) + 64*len(e.UserData)
		if e.Party != nil {
			n += 64 * len(e.Party.UserData)
		}
	}
	return n
}

// APIMessage is one transcript event as GMS Chat API v2 shows it in
// messages[] (public-api-notes §1.5).
type APIMessage struct {
	Index           int               `json:"index"`
	Type            EventType         `json:"type"`
	UTCTime         int64             `json:"utcTime"`
	From            *APIFrom          `json:"from,omitempty"`
	Text            string            `json:"text,omitempty"`
	MessageType     string            `json:"messageType,omitempty"`
	UserData        map[string]string `json:"userData,omitempty"`
	Visibility      Visibility        `json:"visibility"`
	EventAttributes Attributes        `json:"eventAttributes,omitzero"`
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
	return newAPIMessage(e, apiFrom(from))
}

// apiFrom is p as a sender, or nil for no party. It is small enough to
// inline, so that a caller that does not keep it (JSON) keeps it on its stack.
func apiFrom(p *Party) *APIFrom {
	if p == nil {
		return nil
	}
	return &APIFrom{Nickname: p.Nickname, ParticipantID: p.ParticipantID, Type: p.Type}
}

// newAPIMessage is NewAPIMessage with the sender already converted.
func newAPIMessage(e Event, from *APIFrom) APIMessage {
	m := APIMessage{
		Index:           e.Index,
		Type:            e.Type,
		UTCTime:         e.UTCMillis(),
		From:            from,
		Text:            e.Text,
		MessageType:     e.MessageType,
		UserData:        eventUserData(e),
		Visibility:      e.Visibility,
		EventAttributes: Attributes{Party: e.EventAttributes},
	}
	if e.Type == ParticipantLeft && e.Reason != ReasonNone {
		m.EventAttributes.System = map[string]string{"quit-reason-code": strconv.Itoa(int(e.Reason))}
	}
	return m
}

// AppendAPIMessages appends ms as a JSON array (null when nil), each message
// as AppendJSON writes it: the messages of a GMS or wire envelope.
func AppendAPIMessages(b []byte, ms []APIMessage) []byte {
	if ms == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = m.AppendJSON(b)
	}
	return append(b, ']')
}

// AppendJSON appends m as encoding/json marshals it with HTML escaping off:
// fields in declaration order, omitempty ones left out when empty, map keys
// sorted.
func (m APIMessage) AppendJSON(b []byte) []byte {
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(m.Index), 10)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, string(m.Type))
	b = append(b, `,"utcTime":`...)
	b = strconv.AppendInt(b, m.UTCTime, 10)
	if m.From != nil {
		b = m.From.appendJSON(append(b, `,"from":`...))
	}
	b = appendJSONField(b, "text", m.Text)
	b = appendJSONField(b, "messageType", m.MessageType)
	if len(m.UserData) > 0 {
		b = appendJSONStrings(append(b, `,"userData":`...), m.UserData)
	}
	b = appendJSONString(append(b, `,"visibility":`...), string(m.Visibility))
	if !m.EventAttributes.IsZero() {
		b = m.EventAttributes.appendJSON(append(b, `,"eventAttributes":`...))
	}
	return append(b, '}')
}

// appendJSON appends f as encoding/json marshals it.
func (f *APIFrom) appendJSON(b []byte) []byte {
	b = appendJSONString(append(b, `{"nickname":`...), f.Nickname)
	b = append(b, `,"participantId":`...)
	b = strconv.AppendInt(b, int64(f.ParticipantID), 10)
	b = appendJSONString(append(b, `,"type":`...), string(f.Type))
	return append(b, '}')
}

// appendJSONStrings appends m as an object of strings.
func appendJSONStrings(b []byte, m map[string]string) []byte {
	return appendJSONObject(b, m, appendJSONString)
}

// appendJSONObject appends m as an object, keys sorted as encoding/json
// sorts them, each value written by appendValue.
func appendJSONObject[V any](b []byte, m map[string]V, appendValue func([]byte, V) []byte) []byte {
	var buf [16]string
	b = append(b, '{')
	for i, k := range sortedKeys(buf[:0], m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendJSONString(b, k), ':')
		b = appendValue(b, m[k])
	}
	return append(b, '}')
}

// jsonEscapes is what encoding/json writes for each ASCII byte it escapes
// with HTML escaping off: the quote, the backslash and the control
// characters. Bytes it keeps map to "".
var jsonEscapes = func() (t [utf8.RuneSelf]string) {
	const hex = "0123456789abcdef"
	for c := range byte(0x20) {
		t[c] = `\u00` + string(hex[c>>4]) + string(hex[c&0xF])
	}
	t['"'], t['\\'] = `\"`, `\\`
	t['\b'], t['\f'], t['\n'], t['\r'], t['\t'] = `\b`, `\f`, `\n`, `\r`, `\t`
	return t
}()

// appendJSONString appends s quoted exactly as encoding/json quotes it with
// HTML escaping off: jsonEscapes for ASCII, \ufffd for each byte of invalid
// UTF-8, and U+2028 and U+2029 escaped for JSONP's sake.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	last := 0
	for i := 0; i < len(s); {
		at, esc := i, ""
		if c := s[i]; c < utf8.RuneSelf {
			i++
			if esc = jsonEscapes[c]; esc == "" {
				continue
			}
		} else {
			r, width := utf8.DecodeRuneInString(s[i:])
			i += width
			switch {
			case width == 1:
				esc = `\ufffd`
			case r == '\u2028':
				esc = `\u2028`
			case r == '\u2029':
				esc = `\u2029`
			default:
				continue
			}
		}
		b = append(b, s[last:at]...)
		b = append(b, esc...)
		last = i
	}
	b = append(b, s[last:]...)
	return append(b, '"')
}

package transcript

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// ErrInvalidTranscript is returned by Final.XML and Final.JSON when an event
// cannot be encoded: an unknown type or visibility, or a ParticipantJoined
// without its Party.
var ErrInvalidTranscript = errors.New("transcript: invalid final transcript")

// Final is a finished session's transcript, as written to the contact store.
type Final struct {
	// SessionID is the session (and interaction) id.
	SessionID string
	// StartAt is when the session started; event times are shifts from it.
	StartAt time.Time
	// Events are the stored events in index order. Index gaps are kept as
	// they are: events that were delivered but not stored still took an index.
	// The parties are those of the ParticipantJoined events.
	Events []Event
}

// startAtLayout is RFC 3339 in UTC with whole seconds, as in the UCS samples.
const startAtLayout = "2006-01-02T15:04:05Z"

// xmlHeader is encoding/xml's Header: the declaration of a UTF-8 document.
const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// XML encodes f as the chatTranscript XML of public-api-notes §4.1, with the
// XML declaration. A party's KeyHash is never written. It returns an error
// wrapping ErrInvalidTranscript if an event cannot be encoded.
//
// The document is written by hand, byte for byte as encoding/xml's
// MarshalIndent with a one-space indent wrote it before (reference_test.go
// keeps that encoder, and FuzzFinalXML holds this one to it): with reflection
// it took 7% of the chat server's CPU.
func (f Final) XML() ([]byte, error) {
	b := make([]byte, 0, xmlSizeHint(f))
	b = append(b, xmlHeader+`<chatTranscript startAt="`...)
	b = f.StartAt.UTC().AppendFormat(b, startAtLayout) // digits and separators: nothing to escape
	b = append(b, '"')
	b = appendXMLAttr(b, "sessionId", f.SessionID)
	b = append(b, '>')
	for _, e := range f.Events {
		if err := validate(e); err != nil {
			return nil, err
		}
		b = appendXMLEvent(b, f.StartAt, e)
	}
	if len(f.Events) > 0 {
		b = append(b, '\n')
	}
	return append(b, "</chatTranscript>\n"...), nil
}

// xmlSizeHint is a little more than f's XML usually takes, so that XML
// allocates its buffer once.
func xmlSizeHint(f Final) int {
	n := 256
	for _, e := range f.Events {
		n += 224 + len(e.Text) + len(e.PartyID) + len(e.AskerID) + len(e.MessageType) + len(e.NoticeType)
		if e.Party != nil {
			n += len(e.Party.PersonID) + len(e.Party.Nickname) + 64*len(e.Party.UserData)
		}
		n += 64 * (len(e.UserData) + len(e.EventAttributes))
	}
	return n
}

// appendXMLEvent appends e's element (newParty, partyLeft, message or
// notice) at depth 1; e must be valid.
func appendXMLEvent(b []byte, start time.Time, e Event) []byte {
	name, user := xmlEventName(e.Type), e.PartyID
	if e.Type == ParticipantJoined {
		user = partyID(e)
	}
	b = appendXMLOpen(b, 1, name)
	b = appendXMLAttr(b, "userId", user)
	b = append(b, ` timeShift="`...)
	b = strconv.AppendInt(b, timeShift(start, e.Time), 10)
	b = append(b, `" visibility="`...)
	b = append(b, e.Visibility...)
	b = append(b, `" eventId="`...)
	b = strconv.AppendInt(b, int64(e.Index), 10)
	b = append(b, '"')
	if e.Type == ParticipantLeft {
		if asker := askerID(e); asker != "" {
			b = appendXMLAttr(b, "askerId", asker)
		}
	}
	b = append(b, '>')
	b = appendXMLEventBody(b, e)
	b = appendXMLItems(b, "userData", eventUserData(e))
	b = appendXMLItems(b, "eventAttributes", e.EventAttributes)
	return appendXMLClose(b, 1, name)
}

// xmlEventName is the element name of an event of type t.
func xmlEventName(t EventType) string {
	switch t {
	case ParticipantJoined:
		return "newParty"
	case ParticipantLeft:
		return "partyLeft"
	case Message:
		return "message"
	}
	return "notice"
}

// appendXMLEventBody appends the child that says what e is: userInfo,
// reason, msgText or noticeText.
func appendXMLEventBody(b []byte, e Event) []byte {
	switch e.Type {
	case ParticipantJoined:
		return appendXMLUserInfo(b, e.Party)
	case ParticipantLeft:
		b = appendXMLOpen(b, 2, "reason")
		if e.Reason != ReasonNone {
			b = append(b, ` code="`...)
			b = strconv.AppendInt(b, int64(e.Reason), 10)
			b = append(b, '"')
		}
		return appendXMLText(b, "reason", e.Reason.Text())
	case Message:
		b = appendXMLOpen(b, 2, "msgText")
		if e.MessageType != "" {
			b = appendXMLAttr(b, "msgType", e.MessageType)
		}
		return appendXMLText(b, "msgText", e.Text)
	}
	b = appendXMLOpen(b, 2, "noticeText")
	b = appendXMLAttr(b, "noticeType", noticeType(e))
	return appendXMLText(b, "noticeText", e.Text)
}

// appendXMLUserInfo appends the userInfo element of a joining party.
func appendXMLUserInfo(b []byte, p *Party) []byte {
	b = appendXMLOpen(b, 2, "userInfo")
	b = appendXMLAttr(b, "personId", p.PersonID)
	b = appendXMLAttr(b, "userNick", p.Nickname)
	b = appendXMLAttr(b, "userType", userType(p.Type))
	b = appendXMLAttr(b, "protocolType", protocolType(p))
	b = append(b, ` timeZoneOffset="`...)
	b = strconv.AppendInt(b, int64(p.TimeZoneOffset), 10)
	b = append(b, `">`...)
	return append(b, "</userInfo>"...)
}

// appendXMLItems appends the element name (userData or eventAttributes) of
// string items, sorted by key so that equal transcripts encode to equal
// bytes, or nothing when m is empty.
func appendXMLItems(b []byte, name string, m map[string]string) []byte {
	if len(m) == 0 {
		return b
	}
	b = appendXMLOpen(b, 2, name)
	b = append(b, '>')
	var buf [16]string
	for _, k := range sortedKeys(buf[:0], m) {
		b = appendXMLOpen(b, 3, "item")
		b = appendXMLAttr(b, "key", k)
		b = append(b, ` type="string">`...)
		b = appendXMLEscaped(b, m[k])
		b = append(b, "</item>"...)
	}
	return appendXMLClose(b, 2, name)
}

// sortedKeys appends m's keys to dst, sorted.
func sortedKeys[V any](dst []string, m map[string]V) []string {
	dst = slices.AppendSeq(dst, maps.Keys(m))
	slices.Sort(dst)
	return dst
}

// xmlIndent holds the new line and one space per depth that start a line.
const xmlIndent = "\n   "

// appendXMLOpen starts element name on a new line at depth, without closing
// its start tag, so that attributes may follow.
func appendXMLOpen(b []byte, depth int, name string) []byte {
	b = append(b, xmlIndent[:1+depth]...)
	b = append(b, '<')
	return append(b, name...)
}

// appendXMLText closes a start tag, then appends the character data text and
// the end tag of name, on the same line as encoding/xml's indent does for a
// leaf.
func appendXMLText(b []byte, name, text string) []byte {
	b = append(b, '>')
	b = appendXMLEscaped(b, text)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

// appendXMLClose appends the end tag of an element that has children, on a
// line of its own at depth.
func appendXMLClose(b []byte, depth int, name string) []byte {
	b = append(b, xmlIndent[:1+depth]...)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

// appendXMLAttr appends the attribute name="value", value escaped.
func appendXMLAttr(b []byte, name, value string) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, `="`...)
	b = appendXMLEscaped(b, value)
	return append(b, '"')
}

// xmlEscapes is what encoding/xml writes for each ASCII byte it escapes in
// attribute values and character data alike: the markup characters, the
// white space that a parser would normalise, and U+FFFD for the control
// characters that XML cannot carry. Bytes it keeps map to "".
var xmlEscapes = func() (t [utf8.RuneSelf]string) {
	for c := range byte(0x20) {
		t[c] = "\uFFFD"
	}
	t['"'], t['\''], t['&'], t['<'], t['>'] = "&#34;", "&#39;", "&amp;", "&lt;", "&gt;"
	t['\t'], t['\n'], t['\r'] = "&#x9;", "&#xA;", "&#xD;"
	return t
}()

// appendXMLEscaped appends s escaped exactly as encoding/xml's EscapeText
// escapes it: xmlEscapes for ASCII, and U+FFFD for each byte of invalid
// UTF-8 and for U+FFFE and U+FFFF, the runes past ASCII outside the XML
// character range.
func appendXMLEscaped(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		at, esc := i, ""
		if c := s[i]; c < utf8.RuneSelf {
			i++
			if esc = xmlEscapes[c]; esc == "" {
				continue
			}
		} else {
			r, width := utf8.DecodeRuneInString(s[i:])
			i += width
			if width > 1 && r != 0xFFFE && r != 0xFFFF {
				continue
			}
			esc = "\uFFFD"
		}
		b = append(b, s[last:at]...)
		b = append(b, esc...)
		last = i
	}
	return append(b, s[last:]...)
}

// timeShift is the whole seconds from start to t, counted between their
// whole-second times so that startAt (written in whole seconds) plus the shift
// gives back the event's second. It is never negative, because a restored
// session's server clock may lag the original's a little.
func timeShift(start, t time.Time) int64 {
	return max(t.Unix()-start.Unix(), 0)
}

// partyID is the joining party's id, taken from the event or its Party.
func partyID(e Event) string {
	if e.PartyID != "" {
		return e.PartyID
	}
	return e.Party.ID
}

// askerID is who asked for a removal; a party that left by itself is its own asker.
func askerID(e Event) string {
	if e.AskerID != "" {
		return e.AskerID
	}
	return e.PartyID
}

// eventUserData is the event's user data; on ParticipantJoined it is the
// party's, overlaid with the event's own.
func eventUserData(e Event) map[string]string {
	if e.Type != ParticipantJoined || len(e.Party.UserData) == 0 {
		return e.UserData
	}
	m := maps.Clone(e.Party.UserData)
	maps.Copy(m, e.UserData)
	return m
}

// userType is the chatTranscript userType of a party type.
func userType(t PartyType) string {
	switch t {
	case Agent:
		return "AGENT"
	case Supervisor:
		return "SUPERVISOR"
	case External:
		return "EXTERNAL"
	}
	return "CLIENT"
}

// protocolType is the party's protocol, or the one its type connects with.
func protocolType(p *Party) string {
	if p.Protocol != "" {
		return p.Protocol
	}
	switch p.Type {
	case Agent, Supervisor:
		return "BASIC"
	case External:
		return "ESP"
	}
	return "FLEX"
}

// defaultNoticeTypes maps each event encoded as a notice to the noticeType
// written when the event carries none.
var defaultNoticeTypes = map[EventType]string{
	Notice:          "SYSTEM",
	CustomNotice:    "USER_CUSTOM",
	PushURL:         "PUSH_URL",
	NicknameUpdated: "NICKNAME_UPDATED",
	TypingStarted:   "TYPING_STARTED",
	TypingStopped:   "TYPING_STOPPED",
	FileUploaded:    "FILE_UPLOADED",
	FileDeleted:     "FILE_DELETED",
	IdleAlert:       "SYSTEM",
	IdleClose:       "SYSTEM",
	ReadReceipt:     "READ_RECEIPT",
}

// noticeType is the noticeType attribute of a notice event.
func noticeType(e Event) string {
	if e.NoticeType != "" {
		return e.NoticeType
	}
	return defaultNoticeTypes[e.Type]
}

// validate reports, wrapping ErrInvalidTranscript, why e cannot be encoded.
func validate(e Event) error {
	switch {
	case !knownType(e.Type):
		return fmt.Errorf("%w: event %d: unknown type %q", ErrInvalidTranscript, e.Index, e.Type)
	case !e.Visibility.Valid():
		return fmt.Errorf("%w: event %d: invalid visibility %q", ErrInvalidTranscript, e.Index, e.Visibility)
	case e.Type == ParticipantJoined && e.Party == nil:
		return fmt.Errorf("%w: event %d: ParticipantJoined without a party", ErrInvalidTranscript, e.Index)
	}
	return nil
}

func knownType(t EventType) bool {
	_, notice := defaultNoticeTypes[t]
	return notice || t == ParticipantJoined || t == ParticipantLeft || t == Message
}

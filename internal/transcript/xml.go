package transcript

import (
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
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

// XML encodes f as the chatTranscript XML of public-api-notes §4.1, with the
// XML declaration. A party's KeyHash is never written. It returns an error
// wrapping ErrInvalidTranscript if an event cannot be encoded.
func (f Final) XML() ([]byte, error) {
	doc := xmlTranscript{
		StartAt:   f.StartAt.UTC().Format(startAtLayout),
		SessionID: f.SessionID,
		Events:    make([]xmlEvent, 0, len(f.Events)),
	}
	for _, e := range f.Events {
		x, err := f.xmlEvent(e)
		if err != nil {
			return nil, err
		}
		doc.Events = append(doc.Events, x)
	}
	body, err := xml.MarshalIndent(doc, "", " ")
	if err != nil {
		return nil, fmt.Errorf("transcript: encode session %s as XML: %w", f.SessionID, err)
	}
	return append([]byte(xml.Header), append(body, '\n')...), nil
}

// xmlTranscript is the chatTranscript root element.
type xmlTranscript struct {
	XMLName   xml.Name   `xml:"chatTranscript"`
	StartAt   string     `xml:"startAt,attr"`
	SessionID string     `xml:"sessionId,attr"`
	Events    []xmlEvent // each named by its own XMLName
}

// xmlEvent is any event element (newParty, partyLeft, message, notice); its
// XMLName is set per event and only the children of its kind are non-nil.
// The field order is the attribute and child order of the UCS samples.
type xmlEvent struct {
	XMLName    xml.Name
	UserID     string         `xml:"userId,attr"`
	TimeShift  int64          `xml:"timeShift,attr"`
	Visibility Visibility     `xml:"visibility,attr"`
	EventID    int            `xml:"eventId,attr"`
	AskerID    string         `xml:"askerId,attr,omitempty"`
	UserInfo   *xmlUserInfo   `xml:"userInfo"`
	MsgText    *xmlMsgText    `xml:"msgText"`
	NoticeText *xmlNoticeText `xml:"noticeText"`
	Reason     *xmlReason     `xml:"reason"`
	UserData   *xmlUserData   `xml:"userData"`
}

type xmlUserInfo struct {
	PersonID       string `xml:"personId,attr"`
	UserNick       string `xml:"userNick,attr"`
	UserType       string `xml:"userType,attr"`
	ProtocolType   string `xml:"protocolType,attr"`
	TimeZoneOffset int    `xml:"timeZoneOffset,attr"`
}

type xmlMsgText struct {
	MsgType string `xml:"msgType,attr,omitempty"`
	Text    string `xml:",chardata"`
}

type xmlNoticeText struct {
	NoticeType string `xml:"noticeType,attr"`
	Text       string `xml:",chardata"`
}

type xmlReason struct {
	// Code is a string so that reason 0 (logout) is written and ReasonNone is not.
	Code string `xml:"code,attr,omitempty"`
	Text string `xml:",chardata"`
}

type xmlUserData struct {
	Items []xmlItem `xml:"item"`
}

type xmlItem struct {
	Key   string `xml:"key,attr"`
	Type  string `xml:"type,attr"`
	Value string `xml:",chardata"`
}

// xmlEvent converts one event into its element.
func (f Final) xmlEvent(e Event) (xmlEvent, error) {
	if err := validate(e); err != nil {
		return xmlEvent{}, err
	}
	x := xmlEvent{
		UserID:     e.PartyID,
		TimeShift:  timeShift(f.StartAt, e.Time),
		Visibility: e.Visibility,
		EventID:    e.Index,
		UserData:   newXMLUserData(eventUserData(e)),
	}
	switch e.Type {
	case ParticipantJoined:
		x.XMLName.Local = "newParty"
		x.UserID = partyID(e)
		x.UserInfo = newXMLUserInfo(e.Party)
	case ParticipantLeft:
		x.XMLName.Local = "partyLeft"
		x.AskerID = askerID(e)
		x.Reason = newXMLReason(e.Reason)
	case Message:
		x.XMLName.Local = "message"
		x.MsgText = &xmlMsgText{MsgType: e.MessageType, Text: e.Text}
	default:
		x.XMLName.Local = "notice"
		x.NoticeText = &xmlNoticeText{NoticeType: noticeType(e), Text: e.Text}
	}
	return x, nil
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

func newXMLUserInfo(p *Party) *xmlUserInfo {
	return &xmlUserInfo{
		PersonID:       p.PersonID,
		UserNick:       p.Nickname,
		UserType:       userType(p.Type),
		ProtocolType:   protocolType(p),
		TimeZoneOffset: p.TimeZoneOffset,
	}
}

func newXMLReason(r Reason) *xmlReason {
	x := &xmlReason{Text: r.Text()}
	if r != ReasonNone {
		x.Code = strconv.Itoa(int(r))
	}
	return x
}

// newXMLUserData returns the items sorted by key, so that equal transcripts
// encode to equal bytes, or nil when there are none.
func newXMLUserData(m map[string]string) *xmlUserData {
	if len(m) == 0 {
		return nil
	}
	d := &xmlUserData{Items: make([]xmlItem, 0, len(m))}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		d.Items = append(d.Items, xmlItem{Key: k, Type: "string", Value: m[k]})
	}
	return d
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

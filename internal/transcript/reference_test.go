package transcript

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// This file keeps the encoding/xml and encoding/json implementations that
// Final.XML and Final.JSON replaced, as the reference their fuzz tests hold
// the hand-written encoders to, byte for byte.

// referenceXML is Final.XML as encoding/xml writes it.
func referenceXML(f Final) ([]byte, error) {
	doc := xmlTranscript{
		StartAt:   f.StartAt.UTC().Format(startAtLayout),
		SessionID: f.SessionID,
		Events:    make([]xmlEvent, 0, len(f.Events)),
	}
	for _, e := range f.Events {
		x, err := refXMLEvent(f, e)
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
	Attributes *xmlUserData   `xml:"eventAttributes"`
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

// refXMLEvent converts one event into its element.
func refXMLEvent(f Final, e Event) (xmlEvent, error) {
	if err := validate(e); err != nil {
		return xmlEvent{}, err
	}
	x := xmlEvent{
		UserID:     e.PartyID,
		TimeShift:  timeShift(f.StartAt, e.Time),
		Visibility: e.Visibility,
		EventID:    e.Index,
		UserData:   newXMLUserData(eventUserData(e)),
		Attributes: newXMLUserData(e.EventAttributes),
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

// newXMLUserData returns the items sorted by key, or nil when there are none.
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

// referenceJSON is Final.JSON as encoding/json writes it.
func referenceJSON(f Final) ([]byte, error) {
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

package transcript

import (
	"fmt"
	"strconv"
	"time"
)

// AppendJSON appends e as a JSON object with the fields and names of its
// json tags, which json.Unmarshal reads back into an equal Event. The stores
// write every event of every chat this way: encoding/json's reflection cost
// more than the rest of an append. Strings are escaped as Final.JSON escapes
// them (no HTML escaping, which a stored event does not need).
func (e Event) AppendJSON(b []byte) ([]byte, error) {
	if y := e.Time.Year(); y < 0 || y > 9999 {
		return b, fmt.Errorf("transcript: event %d: time %v outside the years 0 to 9999", e.Index, e.Time)
	}
	b = strconv.AppendInt(append(b, `{"index":`...), int64(e.Index), 10)
	b = appendJSONString(append(b, `,"type":`...), string(e.Type))
	b = append(e.Time.AppendFormat(append(b, `,"time":"`...), time.RFC3339Nano), '"')
	b = appendJSONString(append(b, `,"userId":`...), e.PartyID)
	b = appendJSONString(append(b, `,"visibility":`...), string(e.Visibility))
	b = appendJSONField(b, "text", e.Text)
	b = appendJSONField(b, "messageType", e.MessageType)
	if len(e.UserData) > 0 {
		b = appendJSONStrings(append(b, `,"userData":`...), e.UserData)
	}
	if len(e.EventAttributes) > 0 {
		b = appendJSONStrings(append(b, `,"eventAttributes":`...), e.EventAttributes)
	}
	if e.Party != nil {
		b = e.Party.appendJSON(append(b, `,"party":`...))
	}
	if e.Reason != 0 { // omitempty omits 0, not ReasonNone
		b = strconv.AppendInt(append(b, `,"reason":`...), int64(e.Reason), 10)
	}
	b = appendJSONField(b, "askerId", e.AskerID)
	b = appendJSONField(b, "noticeType", e.NoticeType)
	return append(b, '}'), nil
}

// appendJSON appends p as Event.AppendJSON appends an event.
func (p *Party) appendJSON(b []byte) []byte {
	b = appendJSONString(append(b, `{"userId":`...), p.ID)
	b = strconv.AppendInt(append(b, `,"participantId":`...), int64(p.ParticipantID), 10)
	b = appendJSONString(append(b, `,"type":`...), string(p.Type))
	b = appendJSONString(append(b, `,"nickname":`...), p.Nickname)
	b = appendJSONField(b, "personId", p.PersonID)
	b = appendJSONField(b, "protocol", p.Protocol)
	b = appendJSONField(b, "visibility", string(p.Visibility))
	if p.TimeZoneOffset != 0 {
		b = strconv.AppendInt(append(b, `,"timeZoneOffset":`...), int64(p.TimeZoneOffset), 10)
	}
	if len(p.UserData) > 0 {
		b = appendJSONStrings(append(b, `,"userData":`...), p.UserData)
	}
	b = appendJSONField(b, "keyHash", p.KeyHash)
	return append(b, '}')
}

// appendJSONField appends ,"name":value unless value is empty (omitempty).
func appendJSONField(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(append(append(b, `,"`...), name...), `":`...)
	return appendJSONString(b, value)
}

package bayeux

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// errNotJSON is returned by decode when a body or frame is not JSON at all.
var errNotJSON = errors.New("bayeux: body is not a JSON object or array")

// message is one Bayeux message received from a client. Only the fields the
// server reads are kept.
type message struct {
	Channel                  string          `json:"channel"`
	ID                       json.RawMessage `json:"id,omitempty"`
	ClientID                 string          `json:"clientId,omitempty"`
	Data                     json.RawMessage `json:"data,omitempty"`
	ConnectionType           string          `json:"connectionType,omitempty"`
	Subscription             json.RawMessage `json:"subscription,omitempty"`
	SupportedConnectionTypes []string        `json:"supportedConnectionTypes,omitempty"`
	Advice                   *clientAdvice   `json:"advice,omitempty"`
	Ext                      map[string]any  `json:"ext,omitempty"`

	// err is why the message is rejected before it reaches its channel's
	// handler; nil for a well-formed message.
	err *Error
}

// clientAdvice is the advice a client may send with /meta/connect.
type clientAdvice struct {
	Timeout *float64 `json:"timeout,omitempty"`
}

// reply is a message the server sends in answer to a message.
type reply struct {
	Channel                  string          `json:"channel"`
	ID                       json.RawMessage `json:"id,omitempty"`
	ClientID                 string          `json:"clientId,omitempty"`
	Successful               bool            `json:"successful"`
	Error                    string          `json:"error,omitempty"`
	Subscription             json.RawMessage `json:"subscription,omitempty"`
	Version                  string          `json:"version,omitempty"`
	SupportedConnectionTypes []string        `json:"supportedConnectionTypes,omitempty"`
	Advice                   *advice         `json:"advice,omitempty"`
}

// advice is the server's advice; zero fields are left out, so that a client
// keeps its defaults for them.
type advice struct {
	Reconnect   string `json:"reconnect,omitempty"`
	Interval    int64  `json:"interval"`
	Timeout     int64  `json:"timeout,omitempty"`
	MaxInterval int64  `json:"maxInterval,omitempty"`
}

// delivery is a message the server sends to a client on a channel.
type delivery struct {
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
}

// decode splits a body (or websocket frame) into its messages: a JSON object
// is one message, a JSON array holds several. It fails only when data is not
// JSON; a bad message inside valid JSON comes back with its err set, keeping
// whatever id and channel could be read so that its error reply carries them.
func decode(data []byte, maxSize int64) ([]*message, error) {
	data = bytes.TrimSpace(data)
	if int64(len(data)) <= maxSize {
		if msgs, ok := decodeWhole(data); ok {
			return msgs, nil
		}
	}
	return decodeEach(data, maxSize)
}

// decodeEach is decode one message at a time, for the bodies decodeWhole
// leaves to it: each message is judged apart.
func decodeEach(data []byte, maxSize int64) ([]*message, error) {
	var raws []json.RawMessage
	if len(data) > 0 && data[0] == '[' {
		if err := json.Unmarshal(data, &raws); err != nil {
			return nil, fmt.Errorf("%w: %w", errNotJSON, err)
		}
	} else {
		if !json.Valid(data) {
			return nil, errNotJSON
		}
		raws = []json.RawMessage{data}
	}
	msgs := make([]*message, len(raws))
	for i, raw := range raws {
		msgs[i] = decodeOne(raw, maxSize)
	}
	return msgs, nil
}

// decodeWhole decodes data, a JSON object or array of objects, in one pass,
// and reports false when some message in it cannot be decoded: decode then
// judges each message apart. data must be no larger than the largest
// message, so that no message in it is too large.
func decodeWhole(data []byte) ([]*message, bool) {
	var msgs []*message
	switch {
	case len(data) == 0:
		return nil, false
	case data[0] == '[':
		// A null element would decode to nil, not to a rejected message.
		if json.Unmarshal(data, &msgs) != nil || slices.Contains(msgs, nil) {
			return nil, false
		}
	case data[0] == '{':
		m := new(message)
		if json.Unmarshal(data, m) != nil {
			return nil, false
		}
		msgs = []*message{m}
	default:
		return nil, false
	}
	for _, m := range msgs {
		m.err = m.check()
	}
	return msgs, true
}

// decodeOne decodes one message.
func decodeOne(raw json.RawMessage, maxSize int64) *message {
	if int64(len(raw)) > maxSize {
		return salvage(raw, errorf(codeTooLarge, "message too large"))
	}
	if len(raw) == 0 || raw[0] != '{' {
		return salvage(raw, errorf(codeBadMessage, "message is not a JSON object"))
	}
	m := new(message)
	if err := json.Unmarshal(raw, m); err != nil {
		return salvage(raw, errorf(codeBadMessage, "invalid message field"))
	}
	m.err = m.check()
	return m
}

// check returns why a decoded message is not well-formed, or nil.
func (m *message) check() *Error {
	switch {
	case !validID(m.ID):
		m.ID = nil
		return errorf(codeBadMessage, "invalid id")
	case m.Channel == "":
		return errorf(codeBadMessage, "missing channel")
	case !validChannel(m.Channel):
		return errorf(codeBadMessage, "invalid channel")
	}
	return nil
}

// salvage returns a rejected message carrying the id and channel of raw when
// they can be read.
func salvage(raw json.RawMessage, why *Error) *message {
	m := &message{err: why}
	var head struct {
		Channel any             `json:"channel"`
		ID      json.RawMessage `json:"id"`
	}
	if json.Unmarshal(raw, &head) != nil {
		return m
	}
	if ch, ok := head.Channel.(string); ok && validChannel(ch) {
		m.Channel = ch
	}
	if validID(head.ID) {
		m.ID = head.ID
	}
	return m
}

// validID reports whether id is absent, a JSON string or a JSON number: the
// only ids worth echoing.
func validID(id json.RawMessage) bool {
	if len(id) == 0 {
		return true
	}
	c := id[0]
	return c == '"' || c == '-' || (c >= '0' && c <= '9')
}

// errorReply is the unsuccessful reply to m.
func errorReply(m *message, e *Error) *reply {
	ch := m.Channel
	if ch == "" {
		ch = "/meta/unsuccessful"
	}
	r := &reply{Channel: ch, ID: m.ID, ClientID: m.ClientID, Error: e.Error()}
	if e.Code == codeUnknownClient {
		r.Advice = &advice{Reconnect: "handshake"}
	}
	return r
}

// internalReply stands in for a reply that could not be encoded.
var internalReply = []byte(`{"channel":"/meta/unsuccessful","successful":false,"error":"500::internal error"}`)

// encode marshals v, one of the server's own message types. Their fields are
// strings and JSON already validated, so it does not fail in practice; if it
// did, the client gets a 500 rather than the server a panic.
func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return internalReply
	}
	return b
}

// encode returns r as json.Marshal encodes it, without its reflection:
// every message a client sends is answered with a reply.
func (r *reply) encode() []byte {
	b := appendString(append(make([]byte, 0, 128), `{"channel":`...), r.Channel)
	var err error
	if len(r.ID) > 0 {
		if b, err = appendRaw(append(b, `,"id":`...), r.ID); err != nil {
			return internalReply
		}
	}
	if r.ClientID != "" {
		b = appendString(append(b, `,"clientId":`...), r.ClientID)
	}
	b = strconv.AppendBool(append(b, `,"successful":`...), r.Successful)
	if r.Error != "" {
		b = appendString(append(b, `,"error":`...), r.Error)
	}
	if len(r.Subscription) > 0 {
		if b, err = appendRaw(append(b, `,"subscription":`...), r.Subscription); err != nil {
			return internalReply
		}
	}
	if r.Version != "" {
		b = appendString(append(b, `,"version":`...), r.Version)
	}
	if len(r.SupportedConnectionTypes) > 0 {
		b = append(b, `,"supportedConnectionTypes":[`...)
		for i, t := range r.SupportedConnectionTypes {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, t)
		}
		b = append(b, ']')
	}
	if r.Advice != nil {
		b = r.Advice.appendJSON(append(b, `,"advice":`...))
	}
	return append(b, '}')
}

// appendJSON appends a as json.Marshal encodes it.
func (a *advice) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if a.Reconnect != "" {
		b = append(appendString(append(b, `"reconnect":`...), a.Reconnect), ',')
	}
	b = strconv.AppendInt(append(b, `"interval":`...), a.Interval, 10)
	if a.Timeout != 0 {
		b = strconv.AppendInt(append(b, `,"timeout":`...), a.Timeout, 10)
	}
	if a.MaxInterval != 0 {
		b = strconv.AppendInt(append(b, `,"maxInterval":`...), a.MaxInterval, 10)
	}
	return append(b, '}')
}

// appendRaw appends raw, a JSON value a client sent, as json.Marshal
// encodes a json.RawMessage: compacted, with <, >, & and U+2028/9 escaped
// in strings. Most ids need none of that.
func appendRaw(b []byte, raw json.RawMessage) ([]byte, error) {
	if bytes.ContainsAny(raw, " \t\n\r<>&\u2028\u2029") {
		c, err := json.Marshal(raw)
		return append(b, c...), err
	}
	return append(b, raw...), nil
}

// encodeDelivery is encode(delivery{Channel: channel, Data: data}) for data
// that json.Marshal produced, without compacting data a second time.
func encodeDelivery(channel string, data []byte) []byte {
	const head, mid = `{"channel":`, `,"data":`
	b := make([]byte, 0, len(head)+len(channel)+2+len(mid)+len(data)+1)
	b = append(b, head...)
	b = appendString(b, channel)
	b = append(b, mid...)
	b = append(b, data...)
	return append(b, '}')
}

// appendString appends s as json.Marshal encodes it: a channel name needs
// no escaping, anything else takes the long way.
func appendString(b []byte, s string) []byte {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// joinArray appends msgs as one JSON array to buf.
func joinArray(buf []byte, msgs [][]byte) []byte {
	buf = append(buf, '[')
	for i, m := range msgs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, m...)
	}
	return append(buf, ']')
}

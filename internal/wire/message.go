package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
)

// Message is one message: {"name":"RequestJoin","ref":7,"body":{...}}.
// Ref correlates a request with its reply; 0 means an unsolicited event or a
// request that expects no reply. Body is a JSON object or empty.
type Message struct {
	Name string          `json:"name"`
	Ref  uint64          `json:"ref,omitempty"`
	Body json.RawMessage `json:"body,omitempty"`
}

// Decode parses one message strictly: a JSON object with only the fields
// name, ref and body, each at most once; name non-empty and in the catalogue;
// ref a non-negative integer; body absent, null or an object; nothing after
// the object. Errors are *Error with CodeMalformed or CodeUnknownMessage. When
// the ref could be read before the fault, the returned Message carries it so
// that the error reply reaches the right request.
func Decode(data []byte) (Message, error) {
	if m, ok := decodeFast(data); ok {
		return m, nil
	}
	return decodeStrict(data)
}

// decodeStrict is Decode by encoding/json's token reader: slower, and the
// judge of every message the fast path leaves to it.
func decodeStrict(data []byte) (Message, error) {
	var m Message
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := decodeFields(dec, &m); err != nil {
		return m, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return m, Errorf(CodeMalformed, "malformed frame: data after the message")
	}
	switch {
	case m.Name == "":
		return m, Errorf(CodeMalformed, "malformed frame: missing name")
	case !Known(m.Name):
		return m, Errorf(CodeUnknownMessage, "unknown message %q", truncate(m.Name, 64))
	}
	return m, nil
}

// decodeFields reads the message object field by field, keeping what it read
// so far in m.
func decodeFields(dec *json.Decoder, m *Message) error {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return Errorf(CodeMalformed, "malformed frame: not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Errorf(CodeMalformed, "malformed frame: invalid JSON")
		}
		key, _ := tok.(string)
		if seen[key] {
			return Errorf(CodeMalformed, "malformed frame: duplicate field %q", truncate(key, 32))
		}
		seen[key] = true
		if err := decodeField(dec, key, m); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return Errorf(CodeMalformed, "malformed frame: invalid JSON")
	}
	return nil
}

// decodeField reads the value of field key into m.
func decodeField(dec *json.Decoder, key string, m *Message) error {
	switch key {
	case "name":
		if dec.Decode(&m.Name) != nil {
			return Errorf(CodeMalformed, "malformed frame: name must be a string")
		}
	case "ref":
		if dec.Decode(&m.Ref) != nil {
			return Errorf(CodeMalformed, "malformed frame: ref must be a non-negative integer")
		}
	case "body":
		var raw json.RawMessage
		if dec.Decode(&raw) != nil {
			return Errorf(CodeMalformed, "malformed frame: invalid JSON")
		}
		if len(raw) == 0 || raw[0] != '{' && !bytes.Equal(raw, []byte("null")) {
			return Errorf(CodeMalformed, "malformed frame: body must be an object")
		}
		if raw[0] == '{' {
			m.Body = raw
		}
	default:
		return Errorf(CodeMalformed, "malformed frame: unknown field %q", truncate(key, 32))
	}
	return nil
}

// Bind decodes the body of m into v, refusing fields v does not have. An
// empty body decodes as {}: checking required fields is the caller's job. A
// failure is an *Error with CodeBadRequest that names the field when it can.
func (m Message) Bind(v any) error {
	body := m.Body
	if len(body) == 0 {
		body = []byte("{}")
	}
	if bindFast(body, v) {
		return nil
	}
	err := bindStrict(body, v)
	if err == nil {
		return nil
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
		return Errorf(CodeBadRequest, "invalid field %q: want %s", te.Field, te.Type)
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return Errorf(CodeBadRequest, "unknown field %s", field)
	}
	return Errorf(CodeBadRequest, "invalid body of %s", m.Name)
}

// bindStrict decodes body into v with encoding/json, refusing fields v does
// not have: the judge of every body bindFast declines.
func bindStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// A JSONAppender is a body that appends its own encoding to b: a compact JSON
// object whose strings escape control characters, as json.Marshal's would.
// The servers' most frequent bodies skip encoding/json's reflection so.
type JSONAppender interface {
	AppendJSON(b []byte) []byte
}

// encode marshals one message as it goes on the wire. json.Marshal compacts
// the body and escapes control characters in strings, so the result never
// holds a raw newline: the frame separator stays free.
func encode(name string, ref uint64, body any) ([]byte, error) {
	if a, ok := body.(JSONAppender); ok {
		return encodeAppender(name, ref, a), nil
	}
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return nil, err
		}
		if len(raw) == 0 || raw[0] != '{' && string(raw) != "null" {
			return nil, Errorf(CodeBadRequest, "body of %s must be a JSON object", name)
		}
		if raw[0] != '{' {
			raw = nil
		}
	}
	return appendMessage(make([]byte, 0, len(raw)+len(name)+32), name, ref, raw), nil
}

// scratch holds the buffers appenders write into, so that each message
// costs one allocation of its own size, not a series of growing ones.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

func encodeAppender(name string, ref uint64, a JSONAppender) []byte {
	buf := scratch.Get().(*[]byte)
	b := append(a.AppendJSON(appendHead((*buf)[:0], name, ref, true)), '}')
	frame := bytes.Clone(b)
	if cap(b) <= maxBatch { // a rare huge message is not kept
		*buf = b
		scratch.Put(buf)
	}
	return frame
}

// truncate shortens s for an error text that echoes peer input.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// encodeMessage marshals m as it goes on the wire. Its body comes from
// elsewhere, so it is validated and compacted (no raw newline) first.
func encodeMessage(m Message) ([]byte, error) {
	var body bytes.Buffer
	if len(m.Body) > 0 {
		if err := json.Compact(&body, m.Body); err != nil {
			return nil, err
		}
	}
	return appendMessage(make([]byte, 0, body.Len()+len(m.Name)+32), m.Name, m.Ref, body.Bytes()), nil
}

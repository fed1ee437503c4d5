package wire

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// The fast paths below carry every frame between parley's servers. They
// handle the common shape of a message without encoding/json's token
// reader or a second marshalling pass of the body; anything unusual (escaped
// names, odd numbers, invalid JSON) goes to the strict path, which alone
// decides what is refused and with which error.

// decodeFast parses data when it is a well-formed message in the plain
// shape: a valid JSON object of name (a string without escapes), ref (digits)
// and body (an object or null), each at most once, and a known name. ok is
// false for anything else, which the strict decoder then judges. Body is a
// copy, so that m does not pin or alias the frame.
func decodeFast(data []byte) (m Message, ok bool) {
	if !json.Valid(data) {
		return Message{}, false
	}
	i := skipSpace(data, 0)
	if data[i] != '{' {
		return Message{}, false
	}
	var seenName, seenRef, seenBody bool
	for i = skipSpace(data, i+1); data[i] != '}'; {
		if data[i] != '"' {
			return Message{}, false
		}
		keyEnd := bytes.IndexByte(data[i+1:], '"') + i + 1
		key := data[i+1 : keyEnd]
		v := skipSpace(data, skipSpace(data, keyEnd+1)+1) // past ':'
		end := skipValue(data, v)
		val := data[v:end]
		switch string(key) {
		case "name":
			if seenName || len(val) < 3 || val[0] != '"' || bytes.IndexByte(val, '\\') >= 0 {
				return Message{}, false
			}
			m.Name, seenName = string(val[1:len(val)-1]), true
		case "ref":
			ref, err := strconv.ParseUint(string(val), 10, 64)
			if seenRef || err != nil {
				return Message{}, false
			}
			m.Ref, seenRef = ref, true
		case "body":
			if seenBody || val[0] != '{' && string(val) != "null" {
				return Message{}, false
			}
			if val[0] == '{' {
				m.Body = bytes.Clone(val)
			}
			seenBody = true
		default:
			return Message{}, false
		}
		if i = skipSpace(data, end); data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	if skipSpace(data, i+1) != len(data) || !Known(m.Name) {
		return Message{}, false
	}
	return m, true
}

// skipSpace returns the index of the first non-space byte of data at or
// after i, or len(data).
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the index just past the JSON value starting at i, in
// data that json.Valid accepted.
func skipValue(data []byte, i int) int {
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				i = skipString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// skipString returns the index just past the string starting at i.
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// appendMessage appends the wire form of a message whose body is compact
// JSON (or empty): the envelope is written here instead of marshalled.
func appendMessage(b []byte, name string, ref uint64, body []byte) []byte {
	b = appendHead(b, name, ref, len(body) > 0)
	return append(append(b, body...), '}')
}

// appendHead appends a message up to its body: with body, up to and with
// the body's key, so that the body and a closing brace complete it.
func appendHead(b []byte, name string, ref uint64, body bool) []byte {
	b = append(b, `{"name":`...)
	b = AppendString(b, name)
	if ref != 0 {
		b = append(b, `,"ref":`...)
		b = strconv.AppendUint(b, ref, 10)
	}
	if body {
		b = append(b, `,"body":`...)
	}
	return b
}

// AppendString appends s as a JSON string, for a JSONAppender: names of the
// catalogue and ids need no escaping, anything else is marshalled.
func AppendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

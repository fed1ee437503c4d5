package webapi

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/transcript"
)

// The web API decodes a status for every reply and push of a chat server,
// and encoding/json's reflection was a tenth of its CPU. Chat servers write
// a status in one plain shape, which the fast path below reads directly,
// checking as it goes that the text is JSON; anything else (an unknown or
// repeated field, a null where a value is expected, a number that is not an
// integer, text that is not JSON) goes to encoding/json, which alone decides
// what a status means and what is refused.

// plainStatus is status without its UnmarshalJSON: encoding/json's own.
type plainStatus status

// UnmarshalJSON decodes a status as encoding/json would. A wire reply
// comes here straight from the wire package, and reads as a push does
// (parseStatus): neither pays encoding/json's two passes over the text
// before this.
func (st *status) UnmarshalJSON(b []byte) error {
	if st.zero() {
		fast, err := parseStatus(b)
		*st = fast
		return err
	}
	return json.Unmarshal(b, (*plainStatus)(st))
}

// parseStatus decodes b as json.Unmarshal would into a zero status.
func parseStatus(b []byte) (status, error) {
	if st, ok := decodeStatus(b); ok {
		return st, nil
	}
	var st plainStatus
	err := json.Unmarshal(b, &st)
	return status(st), err
}

// zero reports whether st is the zero status, which the fast path assumes:
// encoding/json merges into what a target holds.
func (st *status) zero() bool {
	return st.SessionID == "" && st.UserID == "" && st.SecureKey == "" && st.Alias == "" && !st.ChatEnded &&
		st.NextPosition == 0 && st.Messages == nil && st.Push == nil
}

// decodeStatus reads b when it is a status in the plain shape, and
// reports false for anything else, valid JSON or not.
func decodeStatus(b []byte) (status, bool) {
	var st status
	s := &scanner{b: b}
	var seen uint
	ok := s.object(func(key []byte) bool {
		switch string(key) {
		case "sessionId":
			return s.once(&seen, 0) && s.text(&st.SessionID)
		case "userId":
			return s.once(&seen, 1) && s.text(&st.UserID)
		case "secureKey":
			return s.once(&seen, 2) && s.text(&st.SecureKey)
		case "alias":
			return s.once(&seen, 3) && s.text(&st.Alias)
		case "chatEnded":
			return s.once(&seen, 4) && s.boolean(&st.ChatEnded)
		case "nextPosition":
			return s.once(&seen, 5) && integer(s, &st.NextPosition)
		case "messages":
			return s.once(&seen, 6) && s.messages(&st.Messages)
		case "pushNotification":
			return s.once(&seen, 7) && generic(s, &st.Push)
		}
		return false
	})
	return st, ok && s.end()
}

// messages reads an array of messages, or null.
func (s *scanner) messages(out *[]transcript.APIMessage) bool {
	if s.null() {
		return true
	}
	msgs := make([]transcript.APIMessage, 0, 1)
	ok := s.array(func() bool {
		m, ok := s.message()
		msgs = append(msgs, m)
		return ok
	})
	*out = msgs
	return ok
}

// message reads one message.
func (s *scanner) message() (transcript.APIMessage, bool) {
	var m transcript.APIMessage
	var seen uint
	ok := s.object(func(key []byte) bool {
		switch string(key) {
		case "index":
			return s.once(&seen, 0) && integer(s, &m.Index)
		case "type":
			return s.once(&seen, 1) && s.text((*string)(&m.Type))
		case "utcTime":
			return s.once(&seen, 2) && integer(s, &m.UTCTime)
		case "from":
			return s.once(&seen, 3) && s.from(&m.From)
		case "text":
			return s.once(&seen, 4) && s.text(&m.Text)
		case "messageType":
			return s.once(&seen, 5) && s.text(&m.MessageType)
		case "userData":
			return s.once(&seen, 6) && generic(s, &m.UserData)
		case "visibility":
			return s.once(&seen, 7) && s.text((*string)(&m.Visibility))
		case "eventAttributes":
			return s.once(&seen, 8) && generic(s, &m.EventAttributes)
		}
		return false
	})
	return m, ok
}

// from reads a message's sender.
func (s *scanner) from(out **transcript.APIFrom) bool {
	f := new(transcript.APIFrom)
	var seen uint
	*out = f
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "nickname":
			return s.once(&seen, 0) && s.text(&f.Nickname)
		case "participantId":
			return s.once(&seen, 1) && integer(s, &f.ParticipantID)
		case "type":
			return s.once(&seen, 2) && s.text((*string)(&f.Type))
		}
		return false
	})
}

// scanner reads values in the plain shape, checking that they are JSON.
// Each method reports false, having read an unknown amount, when the value
// is not of the plain shape it reads or not JSON.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips space and then c, reporting whether c was next.
func (s *scanner) consume(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end reports whether only space is left.
func (s *scanner) end() bool {
	s.space()
	return s.i == len(s.b)
}

// once records field bit as seen, and reports false when it already was:
// encoding/json merges a repeated field into the first.
func (s *scanner) once(seen *uint, bit uint) bool {
	if *seen&(1<<bit) != 0 {
		return false
	}
	*seen |= 1 << bit
	return true
}

// object reads an object, calling field with each key (which has no
// escapes) to read its value.
func (s *scanner) object(field func(key []byte) bool) bool {
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return true
	}
	for {
		if !s.consume('"') {
			return false
		}
		n := bytes.IndexByte(s.b[s.i:], '"')
		if n < 0 {
			return false
		}
		key := s.b[s.i : s.i+n]
		s.i += n + 1
		if !plainText(key) || !s.consume(':') || !field(key) {
			return false
		}
		if !s.consume(',') {
			return s.consume('}')
		}
	}
}

// plainText reports whether b, the inside of a JSON string, stands for
// itself: no escapes, no control characters (which JSON forbids), valid
// UTF-8 (which encoding/json would replace).
func plainText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '\\' {
			return false
		}
	}
	return utf8.Valid(b)
}

// array reads an array, calling elem to read each element.
func (s *scanner) array(elem func() bool) bool {
	if !s.consume('[') {
		return false
	}
	if s.consume(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if !s.consume(',') {
			return s.consume(']')
		}
	}
}

// null reads a null, if that is what comes next.
func (s *scanner) null() bool {
	s.space()
	if bytes.HasPrefix(s.b[s.i:], []byte("null")) {
		s.i += len("null")
		return true
	}
	return false
}

// text reads a string; one that does not stand for itself is decoded (and
// checked) by encoding/json.
func (s *scanner) text(out *string) bool {
	s.space()
	if s.i == len(s.b) || s.b[s.i] != '"' {
		return false
	}
	start := s.i
	if !s.skipString() {
		return false
	}
	raw := s.b[start:s.i]
	if body := raw[1 : len(raw)-1]; plainText(body) {
		*out = string(body)
		return true
	}
	// Into a local: handing out itself to encoding/json would move the
	// whole status or message it points into to the heap.
	var v string
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	*out = v
	return true
}

// skipString moves past the string that starts at s.i, and reports
// whether it ends.
func (s *scanner) skipString() bool {
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			s.i++
		case '"':
			s.i++
			return true
		}
	}
	s.i = len(s.b)
	return false
}

// boolean reads true or false.
func (s *scanner) boolean(out *bool) bool {
	s.space()
	switch {
	case bytes.HasPrefix(s.b[s.i:], []byte("true")):
		*out, s.i = true, s.i+len("true")
	case bytes.HasPrefix(s.b[s.i:], []byte("false")):
		*out, s.i = false, s.i+len("false")
	default:
		return false
	}
	return true
}

// integer reads a number written as an integer that fits out.
func integer[T int | int64](s *scanner, out *T) bool {
	s.space()
	start := s.i
	for s.i < len(s.b) && (s.b[s.i] == '-' || s.b[s.i] >= '0' && s.b[s.i] <= '9') {
		s.i++
	}
	text := s.b[start:s.i]
	if digits := bytes.TrimPrefix(text, []byte("-")); len(digits) > 1 && digits[0] == '0' {
		return false // JSON has no leading zeros; ParseInt takes them
	}
	n, err := strconv.ParseInt(string(text), 10, 64)
	if err != nil || int64(T(n)) != n {
		return false
	}
	*out = T(n)
	return true
}

// generic reads the next value, whatever it is, with encoding/json (which
// checks it): for fields that are rare or small. It decodes into a local,
// as text does, so that out's status or message stays on the stack.
func generic[T any](s *scanner, out *T) bool {
	s.space()
	start := s.i
	s.skip()
	var v T
	if json.Unmarshal(s.b[start:s.i], &v) != nil {
		return false
	}
	*out = v
	return true
}

// skip moves past the value that starts at s.i.
func (s *scanner) skip() {
	depth := 0
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.skipString()
		case c == '{' || c == '[':
			depth++
			s.i++
		case c == '}' || c == ']':
			if depth == 0 {
				return // the end of the enclosing value: a literal ended
			}
			depth--
			s.i++
		case depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return
		default:
			s.i++
		}
		if depth == 0 && (s.b[s.i-1] == '"' || s.b[s.i-1] == '}' || s.b[s.i-1] == ']') {
			return
		}
	}
}

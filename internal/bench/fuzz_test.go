package bench

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// FuzzParseText checks parseText on any text a transcript may carry: what
// it accepts is a positive sequence number and a time that messageText
// writes back into a text it reads the same, every text messageText writes
// reads back, and a tracker takes any number it returns without panicking.
func FuzzParseText(f *testing.F) {
	f.Add("bench seq=3 t=1795303650123456789", 3, int64(1795303650123456789))
	f.Add("bench seq=+07 t=-1", 1, int64(-1))
	f.Add("bench seq=9223372036854775807 t=0", 1<<40, int64(0))
	f.Add("hello", 0, int64(0))
	f.Fuzz(func(t *testing.T, text string, seq int, ns int64) {
		if got, at, ok := parseText(text); ok {
			if got < 1 {
				t.Fatalf("%q accepted with sequence number %d", text, got)
			}
			if seq2, at2, ok := parseText(messageText(got, at)); !ok || seq2 != got || !at2.Equal(at) {
				t.Fatalf("%q read as %d %v, which write and read back as %d %v %v", text, got, at, seq2, at2, ok)
			}
			tr := newTracker(4)
			tr.receive(got) // out of range: a duplicate, not a panic
		}
		if seq < 1 {
			return
		}
		at := time.Unix(0, ns)
		if got, at2, ok := parseText(messageText(seq, at)); !ok || got != seq || !at2.Equal(at) {
			t.Fatalf("messageText(%d, %v) reads back as %d %v %v", seq, at, got, at2, ok)
		}
	})
}

// FuzzDecodePush checks decodePush on any push a chat server may send: it
// decodes only an EventSessionInfo that names a Message and the wanted
// sender type, as json.Unmarshal reads it, and declines no such push that
// json.Unmarshal can read.
func FuzzDecodePush(f *testing.F) {
	f.Add([]byte(`{"sessionId":"s1","messages":[{"index":3,"type":"Message","text":"bench seq=1 t=5","from":{"type":"Client"}}]}`), true, false)
	f.Add([]byte(`{"sessionId":"s1","messages":[{"type":"Message","from":{"type":"Agent"}}],"x":1}`), true, true)
	f.Add([]byte(`{"messages":"Message Client"}`), true, false)
	f.Add([]byte(`"Message""Client"`), false, false)
	f.Fuzz(func(t *testing.T, body []byte, sessionInfo, agent bool) {
		m := wire.Message{Name: wire.EventSessionInfo, Body: body}
		if !sessionInfo {
			m.Name = wire.EventPropertiesChanged
		}
		from := fromClient
		if agent {
			from = fromAgent
		}
		p, ok := decodePush(m, from)
		var want push
		readable := json.Unmarshal(body, &want) == nil
		relevant := sessionInfo && bytes.Contains(body, messageType) && bytes.Contains(body, from)
		switch {
		case ok && !relevant:
			t.Fatalf("decoded %s %q, which names no Message from %s", m.Name, body, from)
		case ok && !reflect.DeepEqual(p, want):
			t.Fatalf("%q decoded as %+v, json.Unmarshal reads %+v", body, p, want)
		case !ok && relevant && readable:
			t.Fatalf("declined %q, which json.Unmarshal reads as %+v", body, want)
		}
	})
}

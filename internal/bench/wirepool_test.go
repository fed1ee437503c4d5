package bench

import (
	"testing"

	"github.com/parley-chat/parley/internal/wire"
)

func TestDecodePush(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		ok         bool
		texts      int
	}{
		{wire.EventSessionInfo, `{"sessionId":"s1","messages":[{"type":"Message","text":"bench seq=1 t=5","from":{"type":"Agent"}}]}`, true, 1},
		{wire.EventSessionInfo, `{"sessionId":"s1","messages":[{"type":"ParticipantJoined","from":{"type":"Agent"}}]}`, false, 0},
		{wire.EventSessionInfo, `{"sessionId":"s1","messages":[{"type": "Message"`, false, 0}, // cut short
		{wire.EventStatus, `{"sessionId":"s1","messages":[{"type":"Message","text":"x"}]}`, false, 0},
	} {
		p, ok := decodePush(wire.Message{Name: tc.name, Body: []byte(tc.body)})
		if ok != tc.ok || len(p.Messages) != tc.texts || ok && p.SessionID != "s1" {
			t.Errorf("%s %s: %+v %v, want ok %v with %d messages", tc.name, tc.body, p, ok, tc.ok, tc.texts)
		}
	}
}

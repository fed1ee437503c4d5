package bench

import (
	"testing"

	"github.com/parley-chat/parley/internal/wire"
)

func TestDecodePush(t *testing.T) {
	const agentMessage = `{"sessionId":"s1","messages":[{"type":"Message","text":"bench seq=1 t=5","from":{"type":"Agent"}}]}`
	for _, tc := range []struct {
		name, body string
		from       []byte
		ok         bool
		texts      int
	}{
		{wire.EventSessionInfo, agentMessage, fromAgent, true, 1},
		{wire.EventSessionInfo, agentMessage, fromClient, false, 0}, // the agent's echo
		{wire.EventSessionInfo, `{"sessionId":"s1","messages":[{"type": "Message", "from": {"type": "Client"}}]}`, fromClient, true, 1},
		{wire.EventSessionInfo, `{"sessionId":"s1","messages":[{"type":"ParticipantJoined","from":{"type":"Agent"}}]}`, fromAgent, false, 0},
		{wire.EventSessionInfo, `{"sessionId":"s1","messages":[{"type":"Message","from":{"type":"Agent"}}`, fromAgent, false, 0}, // cut short
		{wire.EventStatus, agentMessage, fromAgent, false, 0},
	} {
		p, ok := decodePush(wire.Message{Name: tc.name, Body: []byte(tc.body)}, tc.from)
		if ok != tc.ok || len(p.Messages) != tc.texts || ok && p.SessionID != "s1" {
			t.Errorf("%s %s from %s: %+v %v, want ok %v with %d messages", tc.name, tc.body, tc.from, p, ok, tc.ok, tc.texts)
		}
	}
}

// BenchmarkDecodePush is the generator's cost of reading one message pushed
// to a party, which it pays for each message twice (sender and receiver).
func BenchmarkDecodePush(b *testing.B) {
	m := wire.Message{Name: wire.EventSessionInfo, Body: []byte(`{"sessionId":"0001KaB3C2D4E5F6","userId":"007553863DC30033",` +
		`"alias":"chat-1","chatEnded":false,"nextPosition":5,"messages":[{"index":4,"type":"Message","utcTime":1764590000000,` +
		`"from":{"nickname":"agent","participantId":2,"type":"Agent"},"text":"bench seq=2 t=1764590000000000000","visibility":"ALL"}]}`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := decodePush(m, fromAgent); !ok {
			b.Fatal("not decoded")
		}
	}
}

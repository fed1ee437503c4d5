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

// BenchmarkDecodePush is the generator's cost of reading one message pushed
// to a party, which it pays for each message twice (sender and receiver).
func BenchmarkDecodePush(b *testing.B) {
	m := wire.Message{Name: wire.EventSessionInfo, Body: []byte(`{"sessionId":"0001KaB3C2D4E5F6","userId":"007553863DC30033",` +
		`"alias":"chat-1","chatEnded":false,"nextPosition":5,"messages":[{"index":4,"type":"Message","utcTime":1764590000000,` +
		`"from":{"nickname":"agent","participantId":2,"type":"Agent"},"text":"bench seq=2 t=1764590000000000000","visibility":"ALL"}]}`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := decodePush(m); !ok {
			b.Fatal("not decoded")
		}
	}
}

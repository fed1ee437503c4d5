package bayeux

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// BenchmarkPublishDeliver measures the round trip of a publish on a service
// channel over a websocket: decode, ServiceFunc, Deliver back to the client,
// queued writer, and the client reading both the reply and the delivery.
func BenchmarkPublishDeliver(b *testing.B) {
	ts := startServer(b, Options{}, func(s *Server) { s.HandleService("/service/echo", echoService) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.url, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.CloseNow()
	roundTrip := func(frame []byte, want []byte, n int) {
		if err := ws.Write(ctx, websocket.MessageText, frame); err != nil {
			b.Fatal(err)
		}
		for seen := 0; seen < n; {
			_, data, err := ws.Read(ctx)
			if err != nil {
				b.Fatal(err)
			}
			seen += bytes.Count(data, want)
		}
	}
	roundTrip([]byte(`[{"id":"1","channel":"/meta/handshake","supportedConnectionTypes":["websocket"]}]`), []byte(`"successful":true`), 1)
	var id string
	ts.mu.RLock()
	for c := range ts.clients {
		id = c
	}
	ts.mu.RUnlock()
	connect := []byte(`[{"channel":"/meta/connect","connectionType":"websocket","clientId":"` + id + `"}]`)
	roundTrip(connect, []byte(`"successful":true`), 1)                    // the first connect returns at once
	if err := ws.Write(ctx, websocket.MessageText, connect); err != nil { // held: deliveries are pushed
		b.Fatal(err)
	}
	publish := []byte(`[{"channel":"/service/echo","clientId":"` + id + `","data":{"text":"Hello, I need help with my order"}}]`)
	b.ReportAllocs()
	for b.Loop() {
		roundTrip(publish, []byte(`"/service/echo"`), 2) // the reply and the echo
	}
}

// BenchmarkBroadcast measures a publish delivered to 100 subscribers.
func BenchmarkBroadcast(b *testing.B) {
	s := New(Options{MaxQueue: 1 << 30})
	defer s.Close()
	for range 100 {
		c, _ := s.register("127.0.0.1")
		s.mu.Lock()
		s.setSubscribed(c, "/chat/*", true)
		s.mu.Unlock()
	}
	data := []byte(`{"text":"Hello, I need help with my order"}`)
	b.ReportAllocs()
	for b.Loop() {
		s.broadcast("/chat/room", data)
	}
}

func BenchmarkDecode(b *testing.B) {
	data := []byte(`[{"id":"12","channel":"/service/chatV2/customer-support","clientId":"0123456789abcdef0123456789abcdef","data":{"operation":"sendMessage","message":"Hello, I need help with my order"}}]`)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := decode(data, 65536); err != nil {
			b.Fatal(err)
		}
	}
}

package webapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/internal/bayeux"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/wire"
)

// sessionInfo is an EventSessionInfo as a chat server pushes it when an
// agent says something.
const sessionInfo = `{"sessionId":"00031aa7c0e10001","userId":"00031aa7c0e10002","alias":"chat-1","chatEnded":false,` +
	`"nextPosition":8,"messages":[{"index":7,"type":"Message","utcTime":1764590000123,` +
	`"from":{"nickname":"Agent Smith","participantId":2,"type":"Agent"},` +
	`"text":"Thanks for waiting, I am looking at your order now.","visibility":"ALL"}]}`

// wsBayeux is a Bayeux server on a loopback HTTP server with one
// websocket client that has handshaken and holds a /meta/connect, so that
// what is delivered to it is written at once.
type wsBayeux struct {
	bx *bayeux.Server
	ws *websocket.Conn
	bc *bayeux.Client
}

func dialWSBayeux(b *testing.B) *wsBayeux {
	bx := bayeux.New(bayeux.Options{})
	hs := httptest.NewServer(bx)
	b.Cleanup(func() { bx.Close(); hs.Close() })
	ctx := b.Context()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ws.CloseNow() })
	w := &wsBayeux{bx: bx, ws: ws}
	var hello []struct {
		ClientID string `json:"clientId"`
	}
	if err := json.Unmarshal(w.roundTrip(b, `[{"channel":"/meta/handshake","supportedConnectionTypes":["websocket"]}]`), &hello); err != nil || len(hello) != 1 {
		b.Fatalf("handshake: %v %v", hello, err)
	}
	connect := `[{"channel":"/meta/connect","connectionType":"websocket","clientId":"` + hello[0].ClientID + `"}]`
	w.roundTrip(b, connect) // the first connect returns at once
	if err := ws.Write(ctx, websocket.MessageText, []byte(connect)); err != nil {
		b.Fatal(err)
	}
	w.bc = bx.Client(hello[0].ClientID)
	return w
}

// roundTrip writes frame and returns the next frame read.
func (w *wsBayeux) roundTrip(b *testing.B, frame string) []byte {
	if err := w.ws.Write(b.Context(), websocket.MessageText, []byte(frame)); err != nil {
		b.Fatal(err)
	}
	return w.read(b)
}

func (w *wsBayeux) read(b *testing.B) []byte {
	_, data, err := w.ws.Read(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkCometPush is one EventSessionInfo from a chat server, from its
// body to the frame a CometD websocket client reads: decoding, the push
// table, the target's filter, the envelope's encoding and the writer.
func BenchmarkCometPush(b *testing.B) {
	w := dialWSBayeux(b)
	t := newCometTarget(w.bc, chatV2Prefix+"customer-support", partyRef{SessionID: "00031aa7c0e10001", UserID: "00031aa7c0e10002"})
	ts := newTargets()
	ts.put(t.key, &subscription{t: t}) // no chat server connection: pushes come with a nil one
	h := wireHandler(ts)
	m := wire.Message{Name: wire.EventSessionInfo, Body: json.RawMessage(sessionInfo)}
	want := []byte("Thanks for waiting")
	b.ReportAllocs()
	for b.Loop() {
		t.rewind(1) // the same event is news every time
		h.ServeWire(context.Background(), nil, m)
		if frame := w.read(b); !bytes.Contains(frame, want) {
			b.Fatalf("read %s", frame)
		}
	}
}

// BenchmarkCometParse reads the data of a sendMessage publish into the
// request the operation takes.
func BenchmarkCometParse(b *testing.B) {
	s, err := New(Config{Name: "gms-bench", Options: config.DefaultWebAPIOptions()})
	if err != nil {
		b.Fatal(err)
	}
	data := json.RawMessage(`{"operation":"sendMessage","chatId":"00031aa7c0e10001","userId":"00031aa7c0e10002",` +
		`"secureKey":"9f2c4e6a8b0d1f3e","alias":"chat-1","message":"Hello, I need help with my order #4471"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, op, err := s.comet.parse(chatV2Prefix+"customer-support", data); err != nil || op != "sendMessage" {
			b.Fatal(op, err)
		}
	}
}

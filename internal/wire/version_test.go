package wire

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestPeerVersion: both sides of a connection learn the other's protocol
// version; a peer that announces none (a parley before the version was
// carried) or announces nonsense is version 1.
func TestPeerVersion(t *testing.T) {
	checkLeaks(t)
	s := startServer(t, nil, Options{}, HandlerFunc(func(context.Context, *Conn, Message) {}))
	c := dial(t, s, Options{}, HandlerFunc(func(context.Context, *Conn, Message) {}))
	if got := c.PeerVersion(); got != Version {
		t.Errorf("client sees server version %d, want %d", got, Version)
	}
	if got := s.conn(t, 0).PeerVersion(); got != Version {
		t.Errorf("server sees client version %d, want %d", got, Version)
	}
	for i, h := range []http.Header{nil, {VersionHeader: {"x"}}, {VersionHeader: {"0"}}} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ws, resp, err := websocket.Dial(ctx, s.wsURL(), &websocket.DialOptions{HTTPHeader: h})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if v := resp.Header.Get(VersionHeader); v != strconv.Itoa(Version) {
			t.Errorf("server announced version %q, want %d", v, Version)
		}
		if got := s.conn(t, i+1).PeerVersion(); got != 1 {
			t.Errorf("header %v: server sees version %d, want 1", h, got)
		}
		ws.CloseNow()
	}
}

// TestDialOlderServer: a server of the version before the header (it
// answers none) is version 1 to the client.
func TestDialOlderServer(t *testing.T) {
	checkLeaks(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err == nil {
			ws.CloseNow()
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, "ws"+srv.URL[len("http"):], Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.PeerVersion(); got != 1 {
		t.Errorf("PeerVersion of an older server = %d, want 1", got)
	}
}

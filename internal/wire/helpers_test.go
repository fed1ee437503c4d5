package wire

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/internal/settle"
)

// eventually fails the test unless cond holds within 5 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	settle.Eventually(t, 5*time.Second, what, cond)
}

// checkLeaks is settle.NoLeaks: call it first in a test.
func checkLeaks(t *testing.T) { settle.NoLeaks(t) }

// server is a test server accepting wire connections and serving them with h.
type server struct {
	*httptest.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns []*Conn
}

// startServer serves h on a new loopback listener, or on ln when not nil.
func startServer(t testing.TB, ln net.Listener, opts Options, h Handler) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{cancel: cancel}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, opts)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		s.wg.Go(func() { _ = c.Serve(ctx, h) })
	}))
	if ln != nil {
		s.Listener.Close()
		s.Listener = ln
	}
	s.Start()
	t.Cleanup(s.stop)
	return s
}

// stop ends every connection and the listener. It is idempotent.
func (s *server) stop() {
	s.cancel()
	s.wg.Wait()
	s.Close()
}

// conn returns the i-th accepted connection once it exists.
func (s *server) conn(t *testing.T, i int) *Conn {
	t.Helper()
	var c *Conn
	eventually(t, "accepted connection", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.conns) > i {
			c = s.conns[i]
		}
		return c != nil
	})
	return c
}

func (s *server) wsURL() string { return "ws" + strings.TrimPrefix(s.URL, "http") }

// dial connects to s and serves the connection with h until the test ends.
func dial(t *testing.T, s *server, opts Options, h Handler) *Conn {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c, err := Dial(ctx, s.wsURL(), opts)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Serve(ctx, h)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return c
}

// rawDial opens a plain WebSocket to s, for sending frames a Conn would not.
func rawDial(t *testing.T, s *server) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, s.wsURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(-1)
	t.Cleanup(func() { _ = ws.CloseNow() })
	return ws
}

// rawRoundTrip writes frame and reads the next message back.
func rawRoundTrip(t *testing.T, ws *websocket.Conn, frame string) Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		t.Fatal(err)
	}
	return rawRead(t, ctx, ws)
}

func rawRead(t *testing.T, ctx context.Context, ws *websocket.Conn) Message {
	t.Helper()
	_, data, err := ws.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(data)
	if err != nil {
		t.Fatalf("decode %q: %v", data, err)
	}
	return m
}

// echo replies EventAck with the request body, and EventError to a body that
// does not bind to joinBody.
var echo = HandlerFunc(func(_ context.Context, c *Conn, m Message) {
	var b joinBody
	if err := m.Bind(&b); err != nil {
		_ = c.ReplyError(m, err)
		return
	}
	_ = c.Reply(m, EventAck, b)
})

type joinBody struct {
	SessionID string `json:"sessionId"`
	N         int    `json:"n,omitempty"`
}

// ignore is a handler that drops everything.
var ignore = HandlerFunc(func(context.Context, *Conn, Message) {})

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

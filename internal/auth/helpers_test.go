package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/wire"
)

// testKey returns a deployment key for tests.
func testKey(t testing.TB, secret string) Key {
	t.Helper()
	k, err := NewKey([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// refusals records what Gate.Refused is told, as "peer/reason".
type refusals struct {
	mu  sync.Mutex // guards got
	got []string
}

func (r *refusals) hook(peer, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, peer+"/"+reason)
}

func (r *refusals) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// admitted is the body the handler of an admitted peer replies with.
type admitted struct {
	Name        string `json:"name"`
	External    bool   `json:"external"`
	Certificate bool   `json:"certificate"`
}

// whoami returns the handler of an admitted peer: it answers every request
// with EventAck and the identity.
func whoami(id Identity) wire.Handler {
	return wire.HandlerFunc(func(_ context.Context, c *wire.Conn, m wire.Message) {
		_ = c.Reply(m, wire.EventAck, admitted{Name: id.Name, External: id.External, Certificate: id.Certificate})
	})
}

// gateServer accepts wire connections and serves each with Gate.Guard.
type gateServer struct {
	*httptest.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startGate serves g on a loopback listener, guarding roles, admitting with
// admit (whoami when nil).
func startGate(t testing.TB, g *Gate, roles []Role, admit func(Identity) wire.Handler) *gateServer {
	t.Helper()
	if admit == nil {
		admit = whoami
	}
	return startWire(t, func(c *wire.Conn, r *http.Request) wire.Handler {
		return g.Guard(c, CertName(r.TLS), roles, admit)
	})
}

// startWire serves every accepted connection with the handler h builds.
func startWire(t testing.TB, h func(*wire.Conn, *http.Request) wire.Handler) *gateServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &gateServer{cancel: cancel}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := wire.Accept(w, r, wire.Options{})
		if err != nil {
			return
		}
		s.wg.Go(func() { _ = c.Serve(ctx, h(c, r)) })
	}))
	t.Cleanup(func() {
		s.cancel()
		s.wg.Wait()
		s.Close()
	})
	return s
}

// dial connects to s and serves the client side until the test ends.
func dial(t testing.TB, s *gateServer) *wire.Conn {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c, err := wire.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http"), wire.Options{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Serve(ctx, wire.HandlerFunc(func(context.Context, *wire.Conn, wire.Message) {}))
	}()
	t.Cleanup(func() { cancel(); <-done })
	return c
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// closed fails t unless c comes to an end.
func closed(t testing.TB, c *wire.Conn) {
	t.Helper()
	settle.Eventually(t, 5*time.Second, "connection closed", func() bool {
		select {
		case <-c.Done():
			return true
		default:
			return false
		}
	})
}

// wantCode fails t unless err carries a *wire.Error with code.
func wantCode(t testing.TB, err error, code wire.Code) {
	t.Helper()
	var werr *wire.Error
	if !errors.As(err, &werr) {
		t.Fatalf("error %v, want a *wire.Error %d", err, code)
	}
	if werr.Code != code {
		t.Fatalf("code %d (%s), want %d", werr.Code, werr.Text, code)
	}
}

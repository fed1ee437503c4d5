package bayeux

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/internal/settle"
)

// msg is a Bayeux message as a test sees it.
type msg = map[string]any

// eventually fails the test unless cond holds within 5 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	settle.Eventually(t, 5*time.Second, what, cond)
}

// checkLeaks is settle.NoLeaks: call it first in a test.
func checkLeaks(t *testing.T) { settle.NoLeaks(t) }

// testServer is a Server mounted at /cometd and /cometd/ on a loopback
// HTTP server.
type testServer struct {
	*Server
	http *httptest.Server
	url  string // the Bayeux URL, http://host/cometd
}

// startServer starts a Server with opts, after setup (HandleService) has run.
func startServer(t testing.TB, opts Options, setup func(*Server)) *testServer {
	t.Helper()
	s := New(opts)
	if setup != nil {
		setup(s)
	}
	mux := http.NewServeMux()
	mux.Handle("/cometd", s)
	mux.Handle("/cometd/", s)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		s.Close() // answers held connects, so that the HTTP server can drain
		hs.Close()
	})
	return &testServer{Server: s, http: hs, url: hs.URL + "/cometd"}
}

// echoService delivers {echo: data.text} back on the channel it was
// published on; text "fail" fails with a 409 and "boom" with a plain error.
func echoService(ctx context.Context, c *Client, channel string, data json.RawMessage) error {
	var in struct{ Text string }
	if err := json.Unmarshal(data, &in); err != nil {
		return &Error{Code: 400, Message: "bad data"}
	}
	switch in.Text {
	case "fail":
		return &Error{Code: 409, Args: []string{"x"}, Message: "refused"}
	case "boom":
		return fmt.Errorf("database at 10.0.0.1 is down")
	}
	return c.Deliver(channel, map[string]string{"echo": in.Text})
}

// session is a raw Bayeux client over one transport. send is asynchronous
// on both transports; expect waits for a received message.
type session struct {
	t         testing.TB
	url       string
	transport string // "websocket", "long-polling" or "callback-polling"
	clientID  string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	ws     *websocket.Conn
	in     chan msg
	seen   []msg // received and not yet expected
	nextID int
}

// newSession opens a session on ts; for websocket it dials at once.
func newSession(t testing.TB, ts *testServer, transport string) *session {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{t: t, url: ts.url, transport: transport, ctx: ctx, cancel: cancel, in: make(chan msg, 1024)}
	t.Cleanup(s.close)
	if transport == "websocket" {
		ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.url, "http"), nil)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		ws.SetReadLimit(-1)
		s.ws = ws
		s.wg.Go(s.readLoop)
	}
	return s
}

func (s *session) close() {
	s.cancel()
	if s.ws != nil {
		_ = s.ws.CloseNow()
	}
	s.wg.Wait()
}

// readLoop feeds s.in with the messages of every websocket frame.
func (s *session) readLoop() {
	for {
		_, data, err := s.ws.Read(s.ctx)
		if err != nil {
			return
		}
		s.push(data)
	}
}

// push decodes a JSON array of messages into s.in.
func (s *session) push(data []byte) {
	var ms []msg
	if err := json.Unmarshal(data, &ms); err != nil {
		s.in <- msg{"decodeError": err.Error(), "raw": string(data)}
		return
	}
	for _, m := range ms {
		s.in <- m
	}
}

// send sends ms in one body or frame, giving each an id and the session's
// clientId when it has none, and returns the ids.
func (s *session) send(ms ...msg) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		if _, ok := m["id"]; !ok {
			s.nextID++
			m["id"] = strconv.Itoa(s.nextID)
		}
		if _, ok := m["clientId"]; !ok && s.clientID != "" {
			m["clientId"] = s.clientID
		}
		ids[i], _ = m["id"].(string)
	}
	body, err := json.Marshal(ms)
	if err != nil {
		s.t.Fatal(err)
	}
	s.sendRaw("", body)
	return ids
}

// sendRaw sends body as is; for long-polling, to the URL with suffix.
func (s *session) sendRaw(suffix string, body []byte) {
	if s.ws != nil {
		if err := s.ws.Write(s.ctx, websocket.MessageText, body); err != nil {
			s.t.Errorf("write: %v", err)
		}
		return
	}
	s.wg.Go(func() {
		req, err := s.httpRequest(suffix, body)
		if err != nil {
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return // cancelled at cleanup
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		if resp.StatusCode != http.StatusOK {
			s.in <- msg{"httpStatus": float64(resp.StatusCode)}
			return
		}
		s.push(s.unwrap(resp.Header.Get("Content-Type"), buf.Bytes()))
	})
}

// jsonpCallback is the callback name the callback-polling session sends,
// as the official client names its first one.
const jsonpCallback = "_cometd_jsonp_0"

// httpRequest is the HTTP request carrying body: a POST for long-polling, a
// GET with message and jsonp parameters for callback-polling.
func (s *session) httpRequest(suffix string, body []byte) (*http.Request, error) {
	if s.transport != "callback-polling" {
		req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.url+suffix, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json;charset=UTF-8")
		}
		return req, err
	}
	q := url.Values{"jsonp": {jsonpCallback}, "message": {string(body)}}
	return http.NewRequestWithContext(s.ctx, http.MethodGet, s.url+suffix+"?"+q.Encode(), nil)
}

// unwrap returns the JSON array of a polling answer: for callback-polling,
// the argument of the callback call, after checking the script's form.
func (s *session) unwrap(contentType string, body []byte) []byte {
	if s.transport != "callback-polling" {
		return body
	}
	head, tail := "/**/"+jsonpCallback+"(", ");"
	if contentType != "text/javascript;charset=UTF-8" || !bytes.HasPrefix(body, []byte(head)) || !bytes.HasSuffix(body, []byte(tail)) {
		return []byte(fmt.Sprintf("not a callback-polling answer (%s): %s", contentType, body))
	}
	return body[len(head) : len(body)-len(tail)]
}

// expect returns the first received message for which match holds, waiting
// up to a few seconds; messages it passes over stay for later.
func (s *session) expect(what string, match func(msg) bool) msg {
	s.t.Helper()
	for i, m := range s.seen {
		if match(m) {
			s.seen = append(s.seen[:i], s.seen[i+1:]...)
			return m
		}
	}
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case m := <-s.in:
			if match(m) {
				return m
			}
			s.seen = append(s.seen, m)
		case <-timeout.C:
			s.t.Fatalf("timed out waiting for %s; received %v", what, s.seen)
			return nil
		}
	}
}

// reply waits for the reply with id.
func (s *session) reply(id string) msg {
	s.t.Helper()
	return s.expect("reply "+id, func(m msg) bool { return m["id"] == id })
}

// request sends m and returns its reply.
func (s *session) request(m msg) msg {
	s.t.Helper()
	return s.reply(s.send(m)[0])
}

// delivery waits for a message on channel without an id: a delivery.
func (s *session) delivery(channel string) msg {
	s.t.Helper()
	return s.expect("delivery on "+channel, func(m msg) bool { return m["channel"] == channel && m["data"] != nil })
}

// none checks that no message matching match has arrived, after a round
// trip (a request to an unknown meta channel) that, on a websocket, flushes
// whatever the server wrote before.
func (s *session) none(what string, match func(msg) bool) {
	s.t.Helper()
	s.request(msg{"channel": "/meta/flush"})
	for _, m := range s.seen {
		if match(m) {
			s.t.Fatalf("unexpected %s: %v", what, m)
		}
	}
}

// handshake handshakes and records the clientId.
func (s *session) handshake() msg {
	s.t.Helper()
	r := s.request(msg{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": []string{s.transport}})
	if r["successful"] != true {
		s.t.Fatalf("handshake failed: %v", r)
	}
	s.clientID, _ = r["clientId"].(string)
	return r
}

// connect sends a /meta/connect and returns its id.
func (s *session) connect() string {
	return s.send(msg{"channel": "/meta/connect", "connectionType": s.transport})[0]
}

// connected handshakes and runs the first connect, which returns at once.
func (s *session) connected() {
	s.t.Helper()
	s.handshake()
	if r := s.reply(s.connect()); r["successful"] != true {
		s.t.Fatalf("first connect failed: %v", r)
	}
}

// transports runs f as a subtest on each transport.
func transports(t *testing.T, f func(t *testing.T, transport string)) {
	for _, tr := range []string{"websocket", "long-polling", "callback-polling"} {
		t.Run(tr, func(t *testing.T) { f(t, tr) })
	}
}

// fakeClock is an injectable clock moved by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

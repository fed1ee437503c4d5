package bayeux

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestHandshake(t *testing.T) {
	transports(t, func(t *testing.T, tr string) {
		checkLeaks(t)
		ts := startServer(t, Options{Timeout: 20 * time.Second, Interval: 5 * time.Millisecond}, nil)
		s := newSession(t, ts, tr)
		r := s.request(msg{"id": "h1", "channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": []string{tr},
			"ext": map[string]any{"k": "v"}})
		if r["successful"] != true || r["version"] != "1.0" || r["channel"] != "/meta/handshake" {
			t.Fatalf("handshake reply %v", r)
		}
		id, _ := r["clientId"].(string)
		if len(id) != 32 || ts.Client(id) == nil {
			t.Fatalf("clientId %q not registered", id)
		}
		adv, _ := r["advice"].(msg)
		if adv["reconnect"] != "retry" || adv["timeout"] != 20000.0 || adv["interval"] != 5.0 || adv["maxInterval"] != 10000.0 {
			t.Errorf("advice %v", adv)
		}
		types, _ := r["supportedConnectionTypes"].([]any)
		if len(types) != 3 || types[0] != "websocket" || types[1] != "long-polling" || types[2] != "callback-polling" {
			t.Errorf("supportedConnectionTypes %v", types)
		}
		if ext := ts.Client(id).Ext(); ext["k"] != "v" {
			t.Errorf("Ext %v", ext)
		}
	})
}

func TestHandshakeUnsupportedTransport(t *testing.T) {
	ts := startServer(t, Options{}, nil)
	s := newSession(t, ts, "long-polling")
	r := s.request(msg{"channel": "/meta/handshake", "supportedConnectionTypes": []string{"iframe"}})
	if r["successful"] != false || r["error"] != "400::no supported connection type" {
		t.Fatalf("reply %v", r)
	}
}

func TestConnectHeldUntilDelivery(t *testing.T) {
	transports(t, func(t *testing.T, tr string) {
		checkLeaks(t)
		ts := startServer(t, Options{}, nil)
		s := newSession(t, ts, tr)
		s.connected()
		held := s.connect()
		c := ts.Client(s.clientID)
		eventually(t, "connect held", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.pending != nil })
		if err := c.Deliver("/service/x", map[string]int{"n": 1}); err != nil {
			t.Fatal(err)
		}
		d := s.delivery("/service/x")
		if d["data"].(msg)["n"] != 1.0 {
			t.Errorf("delivery %v", d)
		}
		if tr != "websocket" { // the delivery completes the held connect
			if r := s.reply(held); r["successful"] != true {
				t.Errorf("connect reply %v", r)
			}
		} else { // pushed; the connect stays held
			s.none("connect reply", func(m msg) bool { return m["id"] == held })
		}
	})
}

func TestConnectTimeout(t *testing.T) {
	transports(t, func(t *testing.T, tr string) {
		checkLeaks(t)
		ts := startServer(t, Options{Timeout: 30 * time.Millisecond}, nil)
		s := newSession(t, ts, tr)
		s.connected()
		start := time.Now()
		r := s.reply(s.connect())
		if r["successful"] != true || time.Since(start) < 30*time.Millisecond {
			t.Fatalf("connect reply %v after %v", r, time.Since(start))
		}
		if adv := r["advice"].(msg); adv["reconnect"] != "retry" || adv["timeout"] != 30.0 {
			t.Errorf("advice %v", adv)
		}
	})
}

func TestConnectAdviceTimeoutZero(t *testing.T) {
	transports(t, func(t *testing.T, tr string) {
		ts := startServer(t, Options{}, nil)
		s := newSession(t, ts, tr)
		s.connected()
		r := s.request(msg{"channel": "/meta/connect", "connectionType": tr, "advice": msg{"timeout": 0}})
		if r["successful"] != true {
			t.Fatalf("connect reply %v", r)
		}
	})
}

func TestConnectQueuedBeforeConnect(t *testing.T) {
	ts := startServer(t, Options{}, nil)
	s := newSession(t, ts, "long-polling")
	s.connected()
	if err := ts.Client(s.clientID).Deliver("/a", "early"); err != nil {
		t.Fatal(err)
	}
	id := s.connect() // returns at once with what was queued
	s.delivery("/a")
	s.reply(id)
}

func TestConnectReplacesHeld(t *testing.T) {
	transports(t, func(t *testing.T, tr string) {
		checkLeaks(t)
		ts := startServer(t, Options{}, nil)
		s := newSession(t, ts, tr)
		s.connected()
		first := s.connect()
		c := ts.Client(s.clientID)
		eventually(t, "connect held", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.pending != nil })
		second := s.connect()
		if r := s.reply(first); r["successful"] != true {
			t.Fatalf("released connect %v", r)
		}
		eventually(t, "second connect held", func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.pending != nil && string(c.pending.id) == `"`+second+`"`
		})
	})
}

func TestUnknownClient(t *testing.T) {
	transports(t, func(t *testing.T, tr string) {
		ts := startServer(t, Options{}, nil)
		s := newSession(t, ts, tr)
		for _, ch := range []string{"/meta/connect", "/meta/subscribe", "/meta/unsubscribe", "/meta/disconnect", "/service/x", "/a"} {
			r := s.request(msg{"channel": ch, "clientId": "nope", "connectionType": tr, "subscription": "/a", "data": 1})
			if r["successful"] != false || r["error"] != "402::Unknown client" || r["channel"] != ch {
				t.Errorf("%s: reply %v", ch, r)
			}
			if adv, _ := r["advice"].(msg); adv["reconnect"] != "handshake" {
				t.Errorf("%s: advice %v", ch, adv)
			}
		}
	})
}

func TestSubscribeBroadcast(t *testing.T) {
	transports(t, func(t *testing.T, tr string) {
		checkLeaks(t)
		ts := startServer(t, Options{}, nil)
		a, b, c := newSession(t, ts, tr), newSession(t, ts, tr), newSession(t, ts, tr)
		for _, s := range []*session{a, b, c} {
			s.connected()
		}
		subscribe := func(s *session, sub any) msg {
			return s.request(msg{"channel": "/meta/subscribe", "subscription": sub})
		}
		if r := subscribe(a, "/chat/*"); r["successful"] != true || r["subscription"] != "/chat/*" {
			t.Fatalf("subscribe %v", r)
		}
		if r := subscribe(b, []string{"/**", "/other"}); r["successful"] != true {
			t.Fatalf("subscribe %v", r)
		}
		a.connect()
		b.connect()
		if r := c.request(msg{"channel": "/chat/room", "data": msg{"text": "hi"}}); r["successful"] != true {
			t.Fatalf("publish %v", r)
		}
		for _, s := range []*session{a, b} {
			if d := s.delivery("/chat/room"); d["data"].(msg)["text"] != "hi" {
				t.Errorf("delivery %v", d)
			}
		}
		if r := a.request(msg{"channel": "/meta/unsubscribe", "subscription": "/chat/*"}); r["successful"] != true {
			t.Fatalf("unsubscribe %v", r)
		}
		a.connect()
		c.request(msg{"channel": "/chat/room/deep", "data": 2}) // only /** matches
		b.connect()
		b.delivery("/chat/room/deep")
		c.request(msg{"channel": "/chat/room", "data": 3})
		b.connect()
		b.delivery("/chat/room")
		a.none("delivery after unsubscribe", func(m msg) bool { return m["data"] != nil })
	})
}

func TestSubscribeRejected(t *testing.T) {
	ts := startServer(t, Options{}, nil)
	s := newSession(t, ts, "long-polling")
	s.handshake()
	tests := []struct {
		sub  any
		want string
	}{
		{"/meta/connect", "403:/meta/connect:meta channels cannot be subscribed to"},
		{[]string{"/ok", "/meta/*"}, "403:/meta/*:meta channels cannot be subscribed to"},
		{"no-slash", "400:no-slash:invalid channel"},
		{"/a/*/b", "400:/a/*/b:invalid channel"},
		{nil, "400::missing or invalid subscription"},
		{5, "400::missing or invalid subscription"},
		{[]string{}, "400::missing or invalid subscription"},
	}
	for _, tt := range tests {
		r := s.request(msg{"channel": "/meta/subscribe", "subscription": tt.sub})
		if r["successful"] != false || r["error"] != tt.want {
			t.Errorf("subscribe %v: %v, want %q", tt.sub, r, tt.want)
		}
	}
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	if len(ts.subs) != 0 {
		t.Errorf("rejected subscriptions recorded: %v", ts.subs)
	}
}

func TestService(t *testing.T) {
	transports(t, func(t *testing.T, tr string) {
		checkLeaks(t)
		ts := startServer(t, Options{}, func(s *Server) { s.HandleService("/service/echo", echoService) })
		s := newSession(t, ts, tr)
		s.connected()
		s.request(msg{"channel": "/meta/subscribe", "subscription": "/service/echo"})
		s.connect()
		if r := s.request(msg{"channel": "/service/echo", "data": msg{"text": "hello"}}); r["successful"] != true {
			t.Fatalf("publish %v", r)
		}
		if d := s.delivery("/service/echo"); d["data"].(msg)["echo"] != "hello" {
			t.Fatalf("delivery %v", d)
		}
		tests := []struct{ channel, text, want string }{
			{"/service/echo", "fail", "409:x:refused"},
			{"/service/echo", "boom", "500::internal error"},
			{"/service/other", "x", "404:/service/other:no service on channel"},
		}
		for _, tt := range tests {
			r := s.request(msg{"channel": tt.channel, "data": msg{"text": tt.text}})
			if r["successful"] != false || r["error"] != tt.want {
				t.Errorf("%s %s: %v, want %q", tt.channel, tt.text, r, tt.want)
			}
		}
	})
}

func TestServiceOrderPerClient(t *testing.T) {
	var mu sync.Mutex
	var got []float64
	ts := startServer(t, Options{}, func(s *Server) {
		s.HandleService("/service/", func(_ context.Context, _ *Client, _ string, data json.RawMessage) error {
			var n float64
			_ = json.Unmarshal(data, &n)
			mu.Lock()
			got = append(got, n)
			mu.Unlock()
			return nil
		})
	})
	s := newSession(t, ts, "websocket")
	s.handshake()
	var batch []msg
	for i := range 50 {
		batch = append(batch, msg{"channel": "/service/n", "data": i})
	}
	ids := s.send(batch...)
	s.reply(ids[len(ids)-1])
	mu.Lock()
	defer mu.Unlock()
	for i, n := range got {
		if n != float64(i) {
			t.Fatalf("service calls out of order: %v", got)
		}
	}
}

func TestDisconnect(t *testing.T) {
	transports(t, func(t *testing.T, tr string) {
		checkLeaks(t)
		ts := startServer(t, Options{}, nil)
		s := newSession(t, ts, tr)
		s.connected()
		c := ts.Client(s.clientID)
		reasons := make(chan error, 2)
		c.OnClose(func(err error) { reasons <- err })
		held := s.connect()
		eventually(t, "connect held", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.pending != nil })
		r := s.request(msg{"channel": "/meta/disconnect", "ext": msg{"transcriptPosition": 7}})
		if r["successful"] != true {
			t.Fatalf("disconnect %v", r)
		}
		hr := s.reply(held)
		if hr["successful"] != true || hr["advice"].(msg)["reconnect"] != "none" {
			t.Errorf("held connect answered %v", hr)
		}
		if err := <-reasons; !errors.Is(err, ErrDisconnected) {
			t.Errorf("OnClose reason %v", err)
		}
		if c.Ext()["transcriptPosition"] != 7.0 || ts.Client(s.clientID) != nil {
			t.Errorf("after disconnect: ext %v, registered %v", c.Ext(), ts.Client(s.clientID) != nil)
		}
		if err := c.Deliver("/a", 1); !errors.Is(err, ErrClientGone) {
			t.Errorf("Deliver after disconnect: %v", err)
		}
		c.OnClose(func(err error) { reasons <- err }) // late: runs at once
		if err := <-reasons; !errors.Is(err, ErrDisconnected) {
			t.Errorf("late OnClose reason %v", err)
		}
		<-c.Done()
		if r := s.reply(s.connect()); r["error"] != "402::Unknown client" {
			t.Errorf("connect after disconnect %v", r)
		}
	})
}

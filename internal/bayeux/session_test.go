package bayeux

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestExpiry(t *testing.T) {
	transports(t, func(t *testing.T, tr string) {
		checkLeaks(t)
		clock := newFakeClock()
		ts := startServer(t, Options{MaxInterval: time.Minute, Now: clock.Now}, nil)
		idle, busy := newSession(t, ts, tr), newSession(t, ts, tr)
		idle.connected()
		busy.connected()
		busy.connect()
		bc := ts.Client(busy.clientID)
		eventually(t, "connect held", func() bool { bc.mu.Lock(); defer bc.mu.Unlock(); return bc.pending != nil })
		ic := ts.Client(idle.clientID)
		reason := make(chan error, 1)
		ic.OnClose(func(err error) { reason <- err })

		clock.advance(time.Minute)
		ts.sweep()
		if ts.Client(idle.clientID) == nil {
			t.Fatal("client removed at exactly MaxInterval")
		}
		clock.advance(time.Millisecond)
		ts.sweep()
		if ts.Client(idle.clientID) != nil || !errors.Is(<-reason, ErrExpired) {
			t.Fatal("idle client not expired")
		}
		if ts.Client(busy.clientID) == nil {
			t.Fatal("client with a held connect expired")
		}
		if r := idle.reply(idle.connect()); r["error"] != "402::Unknown client" {
			t.Errorf("connect after expiry %v", r)
		}
	})
}

func TestExpiryAfterWebsocketLoss(t *testing.T) {
	checkLeaks(t)
	clock := newFakeClock()
	ts := startServer(t, Options{MaxInterval: time.Minute, Now: clock.Now}, nil)
	s := newSession(t, ts, "websocket")
	s.connected()
	s.connect()
	c := ts.Client(s.clientID)
	eventually(t, "connect held", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.pending != nil })
	s.close() // the held connect goes with the socket
	eventually(t, "connect released", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.pending == nil })
	if err := c.Deliver("/a", "kept"); err != nil {
		t.Fatalf("Deliver to a client between sockets: %v", err)
	}
	clock.advance(time.Minute + time.Millisecond)
	ts.sweep()
	<-c.Done()
}

func TestRunSweepsAndCloses(t *testing.T) {
	checkLeaks(t)
	clock := newFakeClock()
	ts := startServer(t, Options{MaxInterval: 40 * time.Millisecond, Now: clock.Now}, nil)
	s := newSession(t, ts, "long-polling")
	s.handshake()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ts.Run(ctx) }()
	clock.advance(time.Second)
	eventually(t, "expiry by Run", func() bool { return ts.Client(s.clientID) == nil })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if r := s.request(msg{"channel": "/meta/handshake"}); r["error"] != "503::server closed" {
		t.Errorf("handshake after Run ended %v", r)
	}
}

func TestOverflow(t *testing.T) {
	checkLeaks(t)
	ts := startServer(t, Options{MaxQueue: 3}, nil)
	s := newSession(t, ts, "long-polling")
	s.connected()
	c := ts.Client(s.clientID)
	reason := make(chan error, 1)
	c.OnClose(func(err error) { reason <- err })
	for i := range 3 {
		if err := c.Deliver("/a", i); err != nil {
			t.Fatalf("Deliver %d: %v", i, err)
		}
	}
	if err := c.Deliver("/a", 3); !errors.Is(err, ErrOverflow) {
		t.Fatalf("Deliver past MaxQueue: %v", err)
	}
	if !errors.Is(<-reason, ErrOverflow) || ts.Client(s.clientID) != nil {
		t.Fatal("overflowing client not removed")
	}
	if err := c.Deliver("/a", 4); !errors.Is(err, ErrClientGone) {
		t.Errorf("Deliver after overflow: %v", err)
	}
}

func TestDeliverInvalid(t *testing.T) {
	ts := startServer(t, Options{}, nil)
	s := newSession(t, ts, "long-polling")
	s.handshake()
	c := ts.Client(s.clientID)
	for _, ch := range []string{"", "a", "/meta/connect", "/a/*", "/a//b"} {
		if err := c.Deliver(ch, 1); err == nil {
			t.Errorf("Deliver on %q accepted", ch)
		}
	}
	if err := c.Deliver("/a", func() {}); err == nil {
		t.Error("Deliver of unmarshallable data accepted")
	}
}

func TestClose(t *testing.T) {
	transports(t, func(t *testing.T, tr string) {
		checkLeaks(t)
		ts := startServer(t, Options{}, nil)
		s := newSession(t, ts, tr)
		s.connected()
		c := ts.Client(s.clientID)
		reason := make(chan error, 1)
		c.OnClose(func(err error) { reason <- err })
		held := s.connect()
		eventually(t, "connect held", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.pending != nil })
		ts.Close()
		ts.Close() // idempotent
		r := s.reply(held)
		if r["successful"] != false || r["error"] != "402::Unknown client" || r["advice"].(msg)["reconnect"] != "handshake" {
			t.Fatalf("held connect at Close %v", r)
		}
		if !errors.Is(<-reason, ErrServerClosed) {
			t.Error("OnClose reason is not ErrServerClosed")
		}
		ts.mu.RLock()
		defer ts.mu.RUnlock()
		if len(ts.conns) != 0 || len(ts.clients) != 0 {
			t.Errorf("after Close: %d websockets, %d clients", len(ts.conns), len(ts.clients))
		}
	})
}

// TestOverflowWebsocket fills the queue of a websocket whose writer is not
// draining: the connection is cut and the client removed.
func TestOverflowWebsocket(t *testing.T) {
	s := New(Options{MaxQueue: 2})
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn := &wsConn{srv: s, ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1), clients: make(map[*Client]struct{})}
	c, _ := s.register("127.0.0.1")
	c.mu.Lock()
	c.holdWSLocked(conn, nil, 0)
	c.mu.Unlock()
	for i := range 2 {
		if err := c.Deliver("/a", i); err != nil {
			t.Fatalf("Deliver %d: %v", i, err)
		}
	}
	if err := c.Deliver("/a", 2); !errors.Is(err, ErrOverflow) {
		t.Fatalf("Deliver past MaxQueue: %v", err)
	}
	<-c.Done()
	<-conn.ctx.Done()
}

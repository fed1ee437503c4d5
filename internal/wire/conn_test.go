package wire

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestRequestReply(t *testing.T) {
	checkLeaks(t)
	s := startServer(t, nil, Options{}, echo)
	c := dial(t, s, Options{}, ignore)

	var got joinBody
	m, err := c.Request(testCtx(t), RequestJoin, joinBody{SessionID: "s1", N: 3}, &got)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != EventAck || m.Ref == 0 || got != (joinBody{SessionID: "s1", N: 3}) {
		t.Fatalf("reply %+v body %+v", m, got)
	}
}

func TestRequestErrorReply(t *testing.T) {
	checkLeaks(t)
	s := startServer(t, nil, Options{}, HandlerFunc(func(_ context.Context, c *Conn, m Message) {
		_ = c.ReplyError(m, Errorf(CodeNoSuchUser, ""))
	}))
	c := dial(t, s, Options{}, ignore)

	_, err := c.Request(testCtx(t), RequestRefresh, nil, nil)
	if e, ok := errors.AsType[*Error](err); !ok || e.Code != CodeNoSuchUser || e.Text != "no such user in the session" {
		t.Fatalf("err = %v, want *Error 8201", err)
	}
}

func TestConcurrentRequests(t *testing.T) {
	checkLeaks(t)
	s := startServer(t, nil, Options{}, echo)
	c := dial(t, s, Options{}, ignore)
	ctx := testCtx(t)

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 32 {
		wg.Go(func() {
			for i := range 50 {
				want := joinBody{SessionID: fmt.Sprint(g), N: i}
				var got joinBody
				if _, err := c.Request(ctx, RequestJoin, want, &got); err != nil || got != want {
					errs <- fmt.Errorf("request %v: got %v, %v", want, got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestUnsolicitedEvents(t *testing.T) {
	checkLeaks(t)
	s := startServer(t, nil, Options{}, HandlerFunc(func(_ context.Context, c *Conn, m Message) {
		for i := range 3 {
			_ = c.Notify(EventSessionInfo, map[string]int{"i": i})
		}
		_ = c.Reply(m, EventAck, nil)
	}))
	var mu sync.Mutex
	var events []Message
	c := dial(t, s, Options{}, HandlerFunc(func(_ context.Context, _ *Conn, m Message) {
		mu.Lock()
		events = append(events, m)
		mu.Unlock()
	}))

	if _, err := c.Request(testCtx(t), RequestSubscribe, nil, nil); err != nil {
		t.Fatal(err)
	}
	// The events were queued before the ack, so they arrived before it.
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 3 {
		t.Fatalf("got %d events, want 3", len(events))
	}
	for i, m := range events {
		if m.Name != EventSessionInfo || m.Ref != 0 || string(m.Body) != fmt.Sprintf(`{"i":%d}`, i) {
			t.Errorf("event %d = %s %d %s", i, m.Name, m.Ref, m.Body)
		}
	}
}

func TestBadMessagesAnsweredAndConnectionGoesOn(t *testing.T) {
	checkLeaks(t)
	s := startServer(t, nil, Options{MaxMessageSize: 1024}, echo)
	ws := rawDial(t, s)
	big := `{"name":"RequestJoin","ref":5,"body":{"sessionId":"` + strings.Repeat("x", 100_000) + `"}}`
	tests := []struct {
		name  string
		frame string
		code  Code
		ref   uint64
	}{
		{"malformed json", `{"name":"RequestJoin","ref":1,`, CodeMalformed, 1},
		{"not an object", `[1,2]`, CodeMalformed, 0},
		{"unknown name", `{"name":"RequestNope","ref":2}`, CodeUnknownMessage, 2},
		{"body not an object", `{"name":"RequestJoin","ref":3,"body":[1]}`, CodeMalformed, 3},
		{"wrong field type", `{"name":"RequestJoin","ref":4,"body":{"sessionId":7}}`, CodeBadRequest, 4},
		{"unknown field", `{"name":"RequestJoin","ref":6,"body":{"who":"x"}}`, CodeBadRequest, 6},
		{"oversized", big, CodeTooLarge, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := rawRoundTrip(t, ws, tt.frame)
			var e Error
			if err := m.Bind(&e); err != nil || m.Name != EventError || e.Code != tt.code || m.Ref != tt.ref {
				t.Fatalf("reply %s ref %d %+v (%v), want EventError ref %d code %d", m.Name, m.Ref, e, err, tt.ref, tt.code)
			}
			ok := rawRoundTrip(t, ws, `{"name":"RequestJoin","ref":99,"body":{"sessionId":"still"}}`)
			if ok.Name != EventAck || ok.Ref != 99 || string(ok.Body) != `{"sessionId":"still"}` {
				t.Fatalf("after %s: %s ref %d %s", tt.name, ok.Name, ok.Ref, ok.Body)
			}
		})
	}
}

func TestBatchedFrameCarriesSeveralMessages(t *testing.T) {
	checkLeaks(t)
	s := startServer(t, nil, Options{}, echo)
	ws := rawDial(t, s)
	ctx := testCtx(t)

	frame := `{"name":"RequestJoin","ref":1,"body":{"sessionId":"a"}}` + "\n\n" +
		`{"name":"RequestJoin","ref":2,"body":{"sessionId":"b"}}` + "\r\n"
	if err := ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		t.Fatal(err)
	}
	var refs []uint64
	for len(refs) < 2 {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.SplitSeq(string(data), "\n") {
			m, err := Decode([]byte(line))
			if err != nil || m.Name != EventAck {
				t.Fatalf("reply %q: %v", line, err)
			}
			refs = append(refs, m.Ref)
		}
	}
	if len(refs) != 2 || refs[0] != 1 || refs[1] != 2 {
		t.Fatalf("refs %v, want [1 2]", refs)
	}
}

func TestSlowConsumerDisconnectedWithoutBlocking(t *testing.T) {
	checkLeaks(t)
	s := startServer(t, nil, Options{QueueSize: 8}, ignore)
	rawDial(t, s) // never reads
	c := s.conn(t, 0)

	body := map[string]string{"text": strings.Repeat("x", 32<<10)}
	start := time.Now()
	var err error
	for i := 0; i < 100_000 && err == nil; i++ {
		err = c.Notify(EventSessionInfo, body)
	}
	if !errors.Is(err, ErrSlowConsumer) {
		t.Fatalf("Notify err = %v, want ErrSlowConsumer", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("sending took %v: a sender blocked", d)
	}
	<-c.Done()
	if !errors.Is(c.Err(), ErrSlowConsumer) {
		t.Fatalf("Err = %v", c.Err())
	}
	if err := c.Notify(EventSessionInfo, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Notify after end = %v, want ErrClosed", err)
	}
}

func TestPingDetectsDeadPeer(t *testing.T) {
	checkLeaks(t)
	s := startServer(t, nil, Options{PingInterval: 50 * time.Millisecond}, ignore)
	rawDial(t, s) // never reads, so never answers pings
	c := s.conn(t, 0)

	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("dead peer not detected")
	}
	if !errors.Is(c.Err(), ErrPingTimeout) {
		t.Fatalf("Err = %v, want ErrPingTimeout", c.Err())
	}
}

func TestPingKeepsLivePeer(t *testing.T) {
	checkLeaks(t)
	s := startServer(t, nil, Options{PingInterval: 20 * time.Millisecond}, echo)
	c := dial(t, s, Options{PingInterval: 20 * time.Millisecond}, ignore)
	sc := s.conn(t, 0)

	// Ten ping periods pass while requests flow.
	for start := time.Now(); time.Since(start) < 200*time.Millisecond; {
		if _, err := c.Request(testCtx(t), RequestJoin, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if sc.Err() != nil || c.Err() != nil {
		t.Fatalf("live connection ended: %v / %v", sc.Err(), c.Err())
	}
}

func TestCloseWritesQueuedReplies(t *testing.T) {
	checkLeaks(t)
	s := startServer(t, nil, Options{}, HandlerFunc(func(_ context.Context, c *Conn, m Message) {
		_ = c.Reply(m, EventAck, map[string]string{"bye": "now"})
		_ = c.Close()
		if err := c.Notify(EventStatus, nil); !errors.Is(err, ErrClosed) {
			t.Errorf("Notify after Close = %v", err)
		}
	}))
	c := dial(t, s, Options{}, ignore)

	var got map[string]string
	if _, err := c.Request(testCtx(t), RequestLogout, nil, &got); err != nil || got["bye"] != "now" {
		t.Fatalf("reply %v, %v", got, err)
	}
	<-c.Done()
	if !errors.Is(c.Err(), ErrClosed) {
		t.Fatalf("Err = %v, want ErrClosed", c.Err())
	}
}

func TestRequestEndsWithConnection(t *testing.T) {
	checkLeaks(t)
	s := startServer(t, nil, Options{}, ignore) // never replies
	c := dial(t, s, Options{}, ignore)

	errc := make(chan error, 1)
	go func() {
		_, err := c.Request(testCtx(t), RequestJoin, nil, nil)
		errc <- err
	}()
	s.conn(t, 0).Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("pending Request = %v, want ErrClosed", err)
	}
	if _, err := c.Request(testCtx(t), RequestJoin, nil, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Request after end = %v, want ErrClosed", err)
	}
}

func TestRequestContextDone(t *testing.T) {
	checkLeaks(t)
	s := startServer(t, nil, Options{}, ignore)
	c := dial(t, s, Options{}, ignore)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.Request(ctx, RequestJoin, nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if c.Err() != nil {
		t.Fatalf("a timed-out request ended the connection: %v", c.Err())
	}
}

func TestServeContextCancelClosesConnection(t *testing.T) {
	checkLeaks(t)
	s := startServer(t, nil, Options{}, echo)
	c, err := Dial(testCtx(t), s.wsURL(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Serve(ctx, ignore) }()
	if _, err := c.Request(testCtx(t), RequestJoin, nil, nil); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Serve = %v, want context.Canceled", err)
	}
	<-s.conn(t, 0).Done()
	if err := c.Serve(context.Background(), ignore); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Serve = %v, want ErrClosed", err)
	}
}

func TestCloseUnservedConn(t *testing.T) {
	checkLeaks(t)
	s := startServer(t, nil, Options{}, ignore)
	c, err := Dial(testCtx(t), s.wsURL(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	_ = c.Close()
	<-c.Done()
	if !errors.Is(c.Err(), ErrClosed) {
		t.Fatalf("Err = %v", c.Err())
	}
	if err := c.Send(Message{Name: EventPing}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send = %v", err)
	}
}

func TestSendRefusesOversizedMessage(t *testing.T) {
	checkLeaks(t)
	s := startServer(t, nil, Options{}, ignore)
	c := dial(t, s, Options{MaxMessageSize: 100}, ignore)
	err := c.Notify(EventSessionInfo, map[string]string{"x": strings.Repeat("y", 200)})
	if e, ok := errors.AsType[*Error](err); !ok || e.Code != CodeTooLarge {
		t.Fatalf("err = %v, want CodeTooLarge", err)
	}
	if c.Err() != nil {
		t.Fatalf("connection ended: %v", c.Err())
	}
}

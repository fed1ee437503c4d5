package wire

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

func TestClientReconnects(t *testing.T) {
	checkLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	first := startServer(t, ln, Options{}, echo)

	var connects atomic.Int32
	cl := NewClient(first.wsURL(), ignore, ClientOptions{
		MinBackoff: 5 * time.Millisecond,
		MaxBackoff: 20 * time.Millisecond,
		OnConnect: func(ctx context.Context, c *Conn) error {
			connects.Add(1)
			_, err := c.Request(ctx, RequestRegister, nil, nil)
			return err
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cl.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})

	eventually(t, "connected", cl.Connected)
	if _, err := cl.Request(testCtx(t), RequestJoin, nil, nil); err != nil {
		t.Fatal(err)
	}

	first.stop()
	eventually(t, "disconnected", func() bool { return !cl.Connected() })
	start := time.Now()
	if _, err := cl.Request(testCtx(t), RequestJoin, nil, nil); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("Request while down = %v, want ErrNotConnected", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("Request while down took %v", d)
	}

	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	startServer(t, ln2, Options{}, echo)
	eventually(t, "reconnected", cl.Connected)
	if _, err := cl.Request(testCtx(t), RequestJoin, nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := connects.Load(); n < 2 {
		t.Fatalf("OnConnect ran %d times, want at least 2", n)
	}
}

func TestClientOnConnectFailureRedials(t *testing.T) {
	checkLeaks(t)
	s := startServer(t, nil, Options{}, echo)
	var attempts atomic.Int32
	cl := NewClient(s.wsURL(), ignore, ClientOptions{
		MinBackoff: time.Millisecond,
		OnConnect: func(context.Context, *Conn) error {
			if attempts.Add(1) < 3 {
				return errors.New("not yet")
			}
			return nil
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cl.Run(ctx) }()

	eventually(t, "connected", cl.Connected)
	if n := attempts.Load(); n != 3 {
		t.Fatalf("attempts = %d, want 3", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if cl.Connected() || cl.Conn() != nil {
		t.Fatal("still connected after Run returned")
	}
}

func TestJitterWithinBounds(t *testing.T) {
	for range 1000 {
		if d := jitter(100 * time.Millisecond); d < 50*time.Millisecond || d > 100*time.Millisecond {
			t.Fatalf("jitter = %v", d)
		}
	}
}

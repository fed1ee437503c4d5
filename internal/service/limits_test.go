package service_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/service"
)

// serveLimited runs ServeHTTPLimited with lim on a loopback port until the
// test ends, and returns its address.
func serveLimited(t *testing.T, h http.Handler, lim service.HTTPLimits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		service.ServeHTTPLimited(ctx, ln, h, time.Second, slog.New(slog.DiscardHandler), lim)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

// readsBody is a handler that reads the whole body, as an upload does.
var readsBody = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
})

// waitClosed waits until the server closes c, at most within.
func waitClosed(c net.Conn, within time.Duration) error {
	c.SetReadDeadline(time.Now().Add(within))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return fmt.Errorf("still open after %v", within)
	}
	return nil
}

// TestSlowBodyAttack opens 200 connections that send their headers and
// then one byte of body: each is cut by ReadTimeout, and the server's
// goroutines come back down.
func TestSlowBodyAttack(t *testing.T) {
	const n = 200
	addr := serveLimited(t, readsBody, service.HTTPLimits{ReadTimeout: time.Second})
	before := runtime.NumGoroutine()
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\nx")
		conns[i] = c
	}
	start := time.Now()
	var wg sync.WaitGroup
	var open atomic.Int32
	for _, c := range conns {
		wg.Go(func() {
			if waitClosed(c, 15*time.Second) != nil {
				open.Add(1)
			}
		})
	}
	wg.Wait()
	if open.Load() > 0 {
		t.Fatalf("%d of %d slow-body connections outlived the read timeout", open.Load(), n)
	}
	t.Logf("%d slow-body connections cut in %v", n, time.Since(start))
	eventuallyTrue(t, "the server's goroutines back down", func() bool { return runtime.NumGoroutine() <= before+5 })
}

// TestIdleKeepAlive checks that a keep-alive connection idle past
// IdleTimeout is closed.
func TestIdleKeepAlive(t *testing.T) {
	addr := serveLimited(t, readsBody, service.HTTPLimits{IdleTimeout: time.Second})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("first request: %v %v", resp, err)
	}
	if err := waitClosed(c, 15*time.Second); err != nil {
		t.Fatalf("idle keep-alive connection: %v", err)
	}
}

// TestMaxHeaderBytes checks that headers past MaxHeaderBytes are refused
// with 431, and just under it served.
func TestMaxHeaderBytes(t *testing.T) {
	addr := serveLimited(t, readsBody, service.HTTPLimits{MaxHeaderBytes: 8 << 10})
	for _, tt := range []struct {
		size int
		want int
	}{{4 << 10, 200}, {64 << 10, http.StatusRequestHeaderFieldsTooLarge}} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
		req.Header.Set("X-Big", strings.Repeat("a", tt.size))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%d-byte header: %v", tt.size, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%d-byte header: HTTP %d, want %d", tt.size, resp.StatusCode, tt.want)
		}
	}
}

// TestConnectionCaps fills the per-address cap: the next connection is
// closed at once and counted; one under the cap again is served.
func TestConnectionCaps(t *testing.T) {
	var refused sync.Map
	count := func(reason string) {
		n, _ := refused.LoadOrStore(reason, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
	}
	addr := serveLimited(t, readsBody, service.HTTPLimits{MaxConnsPerAddr: 5, Refused: count})
	var held []net.Conn
	for range 5 {
		c := mustGet(t, addr) // served, kept alive: still counted
		defer c.Close()
		held = append(held, c)
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	if err := waitClosed(extra, 10*time.Second); err != nil {
		t.Fatalf("connection past max-connections-per-address: %v", err)
	}
	if n, ok := refused.Load(service.RefusedConnsPerAddr); !ok || n.(*atomic.Int32).Load() != 1 {
		t.Errorf("refusals by %s: %v, want 1", service.RefusedConnsPerAddr, n)
	}
	held[0].Close()
	eventuallyTrue(t, "a connection under the cap served again", func() bool {
		c, err := tryGet(addr)
		if c != nil {
			c.Close()
		}
		return err == nil
	})
}

// mustGet opens a connection and serves one request on it.
func mustGet(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := tryGet(addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func tryGet(addr string) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	resp.Body.Close()
	return c, nil
}

// eventuallyTrue polls cond for up to 10 s.
func eventuallyTrue(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package service_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/internal/service"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestHealthz(t *testing.T) {
	var healthErr error
	mux := service.NewMux(nil, func() error { return healthErr }, nil)
	if code, body := get(t, mux, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("healthy: %d %q", code, body)
	}
	healthErr = errors.New("store: unreachable")
	if code, body := get(t, mux, "/healthz"); code != 503 || body != "store: unreachable\n" {
		t.Errorf("unhealthy: %d %q", code, body)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/healthz", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz: %d", rec.Code)
	}
}

func TestMetrics(t *testing.T) {
	reg := service.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_test_total", Help: "A test counter."})
	reg.MustRegister(c)
	c.Add(3)
	code, body := get(t, service.NewMux(reg, nil, nil), "/metrics")
	if code != 200 || !strings.Contains(body, "parley_test_total 3") || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics: %d\n%s", code, body)
	}
}

func TestServeHTTPGracefulStop(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inFlight, finish := make(chan struct{}), make(chan struct{})
	mux := service.NewMux(nil, nil, nil)
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		close(inFlight)
		<-finish
		io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- service.ServeHTTP(ctx, ln, mux, 5*time.Second, slog.New(slog.DiscardHandler)) }()

	reply := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			reply <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		reply <- string(b)
	}()
	<-inFlight
	cancel()
	close(finish)
	if got := <-reply; got != "done" {
		t.Errorf("in-flight request got %q, want done", got)
	}
	if err := <-served; err != nil {
		t.Errorf("ServeHTTP = %v, want nil", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("listener still accepts after stop")
	}
}

func TestServeHTTPForcedStop(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inFlight := make(chan struct{})
	h := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		close(inFlight)
		<-r.Context().Done() // ends when the server closes the connection
	})
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- service.ServeHTTP(ctx, ln, h, 10*time.Millisecond, slog.New(slog.DiscardHandler)) }()
	clientDone := make(chan struct{})
	go func() {
		defer close(clientDone)
		if resp, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
			resp.Body.Close()
		}
	}()
	<-inFlight
	cancel()
	if err := <-served; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ServeHTTP = %v, want DeadlineExceeded", err)
	}
	<-clientDone
}

// TestServeHTTPStopsDespiteASpareConnection: a connection that never sent a
// request (an HTTP client's spare one, a browser's pre-connect) does not
// hold the graceful stop until the grace is spent.
func TestServeHTTPStopsDespiteASpareConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() {
		served <- service.ServeHTTP(ctx, ln, service.NewMux(nil, nil, nil), 3*time.Second, slog.New(slog.DiscardHandler))
	}()
	spare, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer spare.Close()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz") // the server has accepted the spare by now
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("ServeHTTP = %v, want a graceful stop", err)
	}
}

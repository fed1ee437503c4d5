package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parley-chat/parley/internal/auth"
)

// readHeaderTimeout bounds how long a client may take to send its request
// headers, so idle half-open connections cannot pile up.
const readHeaderTimeout = 10 * time.Second

// ServeHTTP serves h on ln under DefaultHTTPLimits; see ServeHTTPLimited.
func ServeHTTP(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration, log *slog.Logger) error {
	return ServeHTTPLimited(ctx, ln, h, grace, log, DefaultHTTPLimits())
}

// ServeHTTPLimited serves h on ln, within lim, until ctx is done, then
// shuts the server down: it stops accepting, lets in-flight requests finish
// for up to grace, and closes whatever remains. Connections that never sent
// a request (a client's spare, pre-opened ones) are closed at once:
// http.Server would count them as busy for five seconds. Hijacked
// connections (WebSockets) are not tracked by the server: h must end them
// itself, for instance from its own ctx.
//
// ServeHTTPLimited closes ln. It returns nil after a graceful stop, an error
// wrapping context.DeadlineExceeded when connections had to be closed after
// grace, and the server's error if serving fails.
func ServeHTTPLimited(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration, log *slog.Logger, lim HTTPLimits) error {
	lim = lim.withDefaults()
	var fresh freshConns
	caps := &connCaps{lim: lim}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(readHeaderTimeout, lim.ReadTimeout),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnState: func(c net.Conn, st http.ConnState) {
			if !caps.track(c, st) {
				c.Close()
				return
			}
			fresh.track(c, st)
		},
	}
	lim.apply(srv)
	addr := ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("service: serve http on %s: %w", addr, err)
	case <-ctx.Done():
	}
	log.Debug("http shutdown", "addr", addr, "grace", grace)
	fresh.closeAll()
	err := shutdown(srv, grace)
	<-served // Serve returns ErrServerClosed as soon as Shutdown starts
	if err != nil {
		return fmt.Errorf("service: shut down http on %s: %w", addr, err)
	}
	return nil
}

// freshConns tracks the connections that have not sent a request yet.
type freshConns struct {
	mu     sync.Mutex // guards conns and closed
	conns  map[net.Conn]struct{}
	closed bool
}

// track is the server's ConnState hook.
func (f *freshConns) track(c net.Conn, st http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case st == http.StateNew && f.closed:
		c.Close() // accepted as the listener closed: no request will be served
	case st == http.StateNew:
		if f.conns == nil {
			f.conns = make(map[net.Conn]struct{})
		}
		f.conns[c] = struct{}{}
	default:
		delete(f.conns, c)
	}
}

// closeAll closes the fresh connections, and any accepted from now on.
func (f *freshConns) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for c := range f.conns {
		c.Close()
	}
	clear(f.conns)
}

// shutdown stops srv gracefully within grace, then closes it.
func shutdown(srv *http.Server, grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, srv.Close())
	}
	return err
}

// NewRegistry returns a Prometheus registry holding the Go runtime and
// process collectors, the base every application's metrics are added to.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// NewMux returns the base mux of every parley listener, on which a role adds
// its own routes. It serves
//
//   - GET /healthz: 200 "ok" when health returns nil (or is nil), otherwise
//     503 with the error's text;
//   - GET /metrics: the metrics of reg in the Prometheus exposition format.
//
// A nil reg is replaced by NewRegistry(). /metrics is served only to the
// callers t admits as admin (see Trust.HTTP); /healthz to anyone, as it
// tells nothing but liveness.
func NewMux(reg *prometheus.Registry, health func() error, t *Trust) *http.ServeMux {
	if reg == nil {
		reg = NewRegistry()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if health != nil {
			if err := health(); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintln(w, err)
				return
			}
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", t.HTTP(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}), auth.RoleAdmin))
	return mux
}

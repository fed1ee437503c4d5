package service

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// HTTPLimits bounds what clients may hold of an HTTP listener. A zero
// duration or size takes its default from DefaultHTTPLimits; a zero
// connection count is no limit.
type HTTPLimits struct {
	// ReadTimeout bounds reading one request, headers and body.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one response; a handler that streams
	// extends its own deadline (http.ResponseController).
	WriteTimeout time.Duration
	// IdleTimeout bounds a keep-alive connection's wait for its next request.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's headers.
	MaxHeaderBytes int
	// MaxConns bounds the open HTTP connections of the listener, and
	// MaxConnsPerAddr those of one client IP address. A connection past
	// either is closed at once. A hijacked connection (a WebSocket) leaves
	// the counts: its handler bounds those.
	MaxConns, MaxConnsPerAddr int
	// Refused, when set, is told of each connection closed for a limit,
	// with the reason RefusedConns or RefusedConnsPerAddr.
	Refused func(reason string)
}

// The reasons HTTPLimits.Refused is given.
const (
	RefusedConns        = "connections"
	RefusedConnsPerAddr = "connections-per-address"
)

// DefaultHTTPLimits are the limits of a listener that names none: the
// internal ones (chat server, interaction server, monitoring), whose
// clients are parley's own applications.
func DefaultHTTPLimits() HTTPLimits {
	return HTTPLimits{ReadTimeout: 60 * time.Second, WriteTimeout: 60 * time.Second,
		IdleTimeout: 60 * time.Second, MaxHeaderBytes: 64 << 10}
}

// withDefaults fills in the zero durations and sizes.
func (l HTTPLimits) withDefaults() HTTPLimits {
	d := DefaultHTTPLimits()
	for _, f := range []struct{ v, def *time.Duration }{
		{&l.ReadTimeout, &d.ReadTimeout}, {&l.WriteTimeout, &d.WriteTimeout}, {&l.IdleTimeout, &d.IdleTimeout},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	return l
}

// apply sets the limits on srv.
func (l HTTPLimits) apply(srv *http.Server) {
	srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout = l.ReadTimeout, l.WriteTimeout, l.IdleTimeout
	srv.MaxHeaderBytes = l.MaxHeaderBytes
}

// connCaps counts the open connections of a listener, in all and by client
// address, from the server's ConnState hook: counting there, rather than
// in a listener wrapper, keeps a TLS listener's connections *tls.Conn, as
// the server needs them.
type connCaps struct {
	lim HTTPLimits

	mu     sync.Mutex // guards the fields below
	total  int
	byAddr map[string]int
	held   map[net.Conn]string // counted connections, by address
}

// track is called with each state change of a connection; it reports
// whether a new connection is admitted (one that is not must be closed).
func (c *connCaps) track(conn net.Conn, st http.ConnState) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch st {
	case http.StateNew:
		return c.admitLocked(conn)
	case http.StateHijacked, http.StateClosed:
		c.releaseLocked(conn)
	}
	return true
}

// admitLocked counts conn unless a limit is reached. c.mu must be held.
func (c *connCaps) admitLocked(conn net.Conn) bool {
	addr := hostOf(conn.RemoteAddr())
	reason := ""
	switch {
	case c.lim.MaxConns > 0 && c.total >= c.lim.MaxConns:
		reason = RefusedConns
	case c.lim.MaxConnsPerAddr > 0 && c.byAddr[addr] >= c.lim.MaxConnsPerAddr:
		reason = RefusedConnsPerAddr
	}
	if reason != "" {
		if c.lim.Refused != nil {
			c.lim.Refused(reason)
		}
		return false
	}
	if c.byAddr == nil {
		c.byAddr, c.held = make(map[string]int), make(map[net.Conn]string)
	}
	c.total++
	c.byAddr[addr]++
	c.held[conn] = addr
	return true
}

// releaseLocked uncounts conn, if it was counted. c.mu must be held.
func (c *connCaps) releaseLocked(conn net.Conn) {
	addr, ok := c.held[conn]
	if !ok {
		return
	}
	delete(c.held, conn)
	c.total--
	if c.byAddr[addr]--; c.byAddr[addr] <= 0 {
		delete(c.byAddr, addr)
	}
}

// hostOf is the IP address of a connection's peer, without the port, as
// ClientIP has it.
func hostOf(a net.Addr) string {
	return ClientIP(&http.Request{RemoteAddr: a.String()})
}

// ClientIP is the IP address of a request's client (the TCP peer), without
// the port: what the per-address limits count.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

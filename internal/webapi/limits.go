package webapi

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/wire"
)

// The reasons a request is refused for a limit, the label of
// parley_webapi_refused_total: an operator watching them sees an attack.
const (
	refusedUploadSize   = "upload-size"   // an upload declared larger than upload-max-file-size
	refusedNewChats     = "new-chats"     // a chat request past new-chats-per-address
	refusedLoginBackoff = "login-backoff" // a desktop login within its address's backoff
)

// newRefused returns the counter of refusals by reason, registered on reg.
func newRefused(reg *prometheus.Registry) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_webapi_refused_total", Help: "Requests refused for a limit, by reason.",
	}, []string{"reason"})
	reg.MustRegister(c)
	return c
}

// refuse counts one refusal for reason.
func (m *metrics) refuse(reason string) { m.refused.WithLabelValues(reason).Inc() }

// httpLimits are the public listener's limits, from [limits].
func (s *Server) httpLimits() service.HTTPLimits {
	l := s.cfg.Options.Limits
	return service.HTTPLimits{
		ReadTimeout: l.HTTPReadTimeout, WriteTimeout: l.HTTPWriteTimeout, IdleTimeout: l.HTTPIdleTimeout,
		MaxConns: l.MaxConnections, MaxConnsPerAddr: l.MaxConnectionsPerAddress, Refused: s.metrics.refuse,
	}
}

// addrWindow counts one address's new chats in the current minute.
type addrWindow struct {
	start time.Time
	n     int
}

// chatRate limits the chats one client address may request per minute
// (new-chats-per-address): a fixed one-minute window per address. Its
// table is pruned of finished windows once it holds maxRateAddrs, so a
// flood from many addresses costs bounded memory.
type chatRate struct {
	perMinute int // 0: no limit

	mu  sync.Mutex // guards win
	win map[string]*addrWindow
}

// maxRateAddrs is the table size past which chatRate prunes it.
const maxRateAddrs = 10000

// allow reports whether addr may request one more chat at now, and counts it.
func (c *chatRate) allow(addr string, now time.Time) bool {
	if c.perMinute <= 0 {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.win == nil {
		c.win = make(map[string]*addrWindow)
	}
	w := c.win[addr]
	if w == nil || now.Sub(w.start) >= time.Minute {
		if w == nil && len(c.win) >= maxRateAddrs {
			c.pruneLocked(now)
		}
		w = &addrWindow{start: now}
		c.win[addr] = w
	}
	if w.n >= c.perMinute {
		return false
	}
	w.n++
	return true
}

// pruneLocked drops the windows that have ended. c.mu must be held.
func (c *chatRate) pruneLocked(now time.Time) {
	for a, w := range c.win {
		if now.Sub(w.start) >= time.Minute {
			delete(c.win, a)
		}
	}
}

// refusalDelay is how long a chat request past new-chats-per-address
// waits for its refusal: a flooder's connections then cost a timer each,
// not a request's CPU, and its rate drops to its connections per second
// (which max-connections-per-address bounds).
const refusalDelay = time.Second

// checkNewChat refuses a chat request past new-chats-per-address, after
// refusalDelay (or the end of ctx).
func (s *Server) checkNewChat(ctx context.Context, q *request) error {
	if s.chatRate.allow(q.addr, time.Now()) {
		return nil
	}
	s.metrics.refuse(refusedNewChats)
	t := time.NewTimer(refusalDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return wire.Errorf(wire.CodeRateLimited, "more than %d new chats a minute from this address (new-chats-per-address)",
		s.cfg.Options.Limits.NewChatsPerAddress)
}

package bench

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/parley-chat/parley/internal/auth"
)

// Transport is how simulated customers reach the chat: one of Chat API
// v2's to the web API, or Wire, past it.
type Transport string

// The transports of Chat API v2, and Wire.
const (
	REST        Transport = "rest"         // short polling
	WebSocket   Transport = "websocket"    // CometD over websocket
	LongPolling Transport = "long-polling" // CometD over HTTP long polling
	// Wire has customers speak the chat server's customer side (the
	// framed protocol's /wire/flex) themselves, sending what a web API
	// would send for them: no web API, so it measures the chat server
	// alone, not the GMS path.
	Wire Transport = "wire"
)

// ParseTransport returns the transport called s.
func ParseTransport(s string) (Transport, error) {
	switch t := Transport(s); t {
	case REST, WebSocket, LongPolling, Wire:
		return t, nil
	}
	return "", fmt.Errorf("bench: unknown transport %q (rest, websocket, long-polling or wire)", s)
}

// cometd reports whether t is a CometD transport.
func (t Transport) cometd() bool { return t == WebSocket || t == LongPolling }

// pushed reports whether t's customers receive events as they happen,
// rather than at their next poll.
func (t Transport) pushed() bool { return t != REST }

// Measures says what a run over t measures, for the result and its reader.
func (t Transport) Measures() string {
	if t == Wire {
		return "the chat server alone: customers on its wire side (what a web API would send it), not the GMS path"
	}
	return "the GMS path: customers on Chat API v2 to the web API, which speaks to the chat server"
}

// Config is one run of the load generator. Zero durations take the seed's
// defaults in Defaults; Validate says what is wrong with the rest.
type Config struct {
	// Target is the web API's base URL, http://host:port; the Wire
	// transport has none.
	Target string
	// Service is the Chat API v2 service name customers request chats on.
	Service string
	// ChatServers maps each chat server's name (a chat's alias) to the
	// host:port of its listener, where agents join.
	ChatServers map[string]string
	Transport   Transport
	// Sessions is the number of active sessions kept open; Dormant the
	// number of dormant async sessions created before them.
	Sessions, Dormant int
	// DormantPoll is a dormant REST customer's poll interval.
	DormantPoll time.Duration
	// Ramp is how long it takes to open the active sessions; Duration is
	// the measured window that follows it.
	Ramp, Duration time.Duration
	// Poll is an active REST customer's poll interval.
	Poll time.Duration
	// SessionLength and Messages (per party) make the scenario; Think, the
	// pause between two messages, is SessionLength / (2*Messages+1) when zero.
	SessionLength time.Duration
	Messages      int
	Think         time.Duration
	// AgentsPerConn is how many agents share one wire connection.
	AgentsPerConn int
	// CustomersPerConn is how many customers of the Wire transport share
	// one connection. Zero, the default, puts all of a chat server's on
	// one: a web API multiplexes all its customers over its one connection
	// to each chat server, so the chat server then reads and writes the
	// same large batched frames it would behind a web API, where a
	// connection per hundred customers would cost it more writes per
	// message than production does.
	CustomersPerConn int
	// P99Bound is the p99 delivery latency a step may have and pass.
	P99Bound time.Duration
	// Processes are the deployment's processes whose CPU and memory the
	// result reports; the generator itself is always added.
	Processes []Process
	// Progress receives a line of live figures every second; nil discards it.
	Progress io.Writer
	// Credentials prove the generator to the chat servers; nil proves
	// nothing, which only a chat server without a Trust admits.
	Credentials *Credentials
	// Chaos, when set, kills chat servers during the measured window.
	Chaos *Chaos
}

// Credentials are how the generator proves itself to the chat servers: as
// the deployment's web API Name, which the chat servers admit on both their
// sides; its simulated agents join with grants it signs with Key, as the
// interaction server would.
type Credentials struct {
	Name string
	Key  auth.Key
	// TLS, when set, dials the chat servers with wss:// and this
	// configuration.
	TLS *tls.Config
}

// Process is one process of the deployment under test.
type Process struct {
	Name string `json:"name"`
	Role string `json:"role"` // chat-server, web-api or bench
	PID  int    `json:"pid"`
}

// Defaults returns the seed's scenario: 35 s sessions with 3 messages from
// each party, REST polling every 3 s, a 35 s ramp and a 60 s window. The
// ramp is one session long so that session starts, and with them closes and
// the messages between, are spread evenly in time: a shorter ramp bunches
// them into waves that recur every session length.
func Defaults() Config {
	return Config{
		Service: "customer-support", Transport: REST,
		DormantPoll: 30 * time.Second, Ramp: 35 * time.Second, Duration: 60 * time.Second,
		Poll: 3 * time.Second, SessionLength: 35 * time.Second, Messages: 3, AgentsPerConn: 100,
		P99Bound: time.Second,
	}
}

// Quick shrinks c to a run that finishes within a minute: 20 active and 10
// dormant sessions, 5 s sessions, a 1 s ramp and a 6 s window.
func (c Config) Quick() Config {
	c.Sessions, c.Dormant = 20, 10
	c.Ramp, c.Duration = time.Second, 6*time.Second
	c.SessionLength, c.Messages, c.Think = 5*time.Second, 2, 0
	c.Poll, c.DormantPoll = 500*time.Millisecond, 2*time.Second
	return c
}

// think returns the pause between two messages of a session.
func (c Config) think() time.Duration {
	if c.Think > 0 {
		return c.Think
	}
	return c.SessionLength / time.Duration(2*c.Messages+1)
}

// Validate returns what is wrong with c, or nil.
func (c Config) Validate() error {
	var errs []error
	if c.Transport == Wire {
		if len(c.ChatServers) == 0 {
			errs = append(errs, errors.New("bench: the wire transport needs the chat servers' addresses (customers speak to them)"))
		}
	} else if u, err := url.Parse(c.Target); err != nil || u.Scheme != "http" || u.Host == "" {
		errs = append(errs, fmt.Errorf("bench: target %q is not http://host:port", c.Target))
	}
	if c.Sessions > 0 && len(c.ChatServers) == 0 {
		errs = append(errs, errors.New("bench: active sessions need the chat servers' addresses (agents join there)"))
	}
	if c.Sessions < 0 || c.Dormant < 0 || c.Sessions+c.Dormant == 0 {
		errs = append(errs, errors.New("bench: need some sessions (active or dormant), none negative"))
	}
	if c.Messages < 1 || c.AgentsPerConn < 1 || c.CustomersPerConn < 0 || c.Service == "" {
		errs = append(errs, errors.New("bench: messages and agents per connection must be at least 1, customers per connection not negative, service set"))
	}
	for name, d := range map[string]time.Duration{"poll": c.Poll, "dormant-poll": c.DormantPoll,
		"duration": c.Duration, "session-length": c.SessionLength, "p99-bound": c.P99Bound} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("bench: %s must be positive", name))
		}
	}
	if c.Ramp < 0 || c.Think < 0 {
		errs = append(errs, errors.New("bench: ramp and think must not be negative"))
	}
	if c.Chaos != nil && (c.Chaos.Every <= 0 || c.Chaos.Kill == nil || c.Transport == Wire) {
		errs = append(errs, errors.New("bench: chaos needs a positive interval, a way to kill, and customers on a web API (not wire)"))
	}
	return errors.Join(errs...)
}

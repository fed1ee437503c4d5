package bayeux

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Timeout is advice.timeout: how long a /meta/connect is held when no
	// message is queued. Zero means 30s.
	Timeout time.Duration
	// Interval is advice.interval: how long a client waits between a connect
	// reply and its next /meta/connect. Zero means 0.
	Interval time.Duration
	// MaxInterval is how long a client may go without a /meta/connect held or
	// arriving before it is removed with ErrExpired. Zero means 10s.
	MaxInterval time.Duration
	// MaxMessageSize is the largest Bayeux message accepted, in bytes; a
	// long-polling body or websocket frame may carry an array of messages up
	// to 16 times that. Zero means 65536.
	MaxMessageSize int64
	// MaxQueue bounds each client's undelivered messages; a client that
	// overflows it is removed with ErrOverflow. Zero means 1000.
	MaxQueue int
	// CheckOrigin reports whether a browser page of origin (the request's
	// Origin header, as sent) may use the server. It is called for every
	// request of any transport that carries an Origin header, and for a
	// callback-polling GET without one that carries a Referer (with the
	// Referer's scheme://host[:port]); one it refuses gets 403 and is not
	// served. Requests that name no page (clients other than browsers, a
	// page whose referrer policy sends no Referer) are not checked: the
	// check keeps honest pages of other sites out, it is no defence against
	// a hostile page. Nil admits polling requests of any origin and
	// websockets whose Origin host equals the request's Host (the websocket
	// library's check, which DNS rebinding defeats).
	CheckOrigin func(origin string) bool
	// Channels are the prefixes of the channels other than /meta/ ones that
	// clients may subscribe and publish to (for instance
	// "/service/chatV2/"); a subscription or publish elsewhere fails with
	// 403. Nil allows every channel, and clients can then relay messages
	// to each other through the server.
	Channels []string
	// MaxClientsPerAddr bounds the live clients of one remote IP address
	// (a handshake past it fails with 503), and its websockets (one past
	// it is closed with 1013, try again later). Zero is no limit.
	MaxClientsPerAddr int
	// MaxConnectsPerAddr bounds the long-polling connects of one remote IP
	// address held at once; one past it is answered at once, with advice to
	// wait a second before the next. Zero is no limit.
	MaxConnectsPerAddr int
	// MaxExtSize bounds the ext of a handshake or disconnect, encoded as
	// JSON; a larger one fails with 400 and is not kept. Zero means 65536.
	MaxExtSize int
	// Refused, when set, is told of each request refused for one of the
	// limits above, with the reason: RefusedClients, RefusedConnects,
	// RefusedExt or RefusedChannel.
	Refused func(reason string)
	// Logger receives protocol events at debug level. Nil discards them.
	Logger *slog.Logger
	// Now is the clock of session expiry. Nil means time.Now.
	Now func() time.Time
}

// withDefaults returns o with its zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxInterval <= 0 {
		o.MaxInterval = 10 * time.Second
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 65536
	}
	if o.MaxQueue <= 0 {
		o.MaxQueue = 1000
	}
	if o.MaxExtSize <= 0 {
		o.MaxExtSize = 65536
	}
	if o.Refused == nil {
		o.Refused = func(string) {}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// ServiceFunc serves a publish on a service channel. It runs on the
// goroutine of the request (or websocket) that carried the message, one
// publish at a time per client, in arrival order; ctx ends with that request
// or connection. It replies to the client by calling c.Deliver. Returning nil
// answers the publish successfully; an *Error is sent as is; any other error
// is sent as "500::internal error".
type ServiceFunc func(ctx context.Context, c *Client, channel string, data json.RawMessage) error

// service is a ServiceFunc with the channel prefix it serves.
type service struct {
	prefix string
	f      ServiceFunc
}

// Server is a Bayeux 1.0 server: it serves the websocket, long-polling and
// callback-polling transports over HTTP, keeps the registry of clients, holds /meta/connect,
// routes publishes to services and subscribers, and expires silent clients.
// It is safe for concurrent use.
//
// Lock order: Server.mu, then Client.mu, then wsConn.mu; Client.svcMu is
// taken before any of them and held while a ServiceFunc runs.
type Server struct {
	opts Options
	log  *slog.Logger

	wg sync.WaitGroup // websocket handlers and OnClose callbacks

	mu       sync.RWMutex // guards the fields below and every Client.subs
	closed   bool
	clients  map[string]*Client
	byAddr   map[string]int // live clients by remote address
	subs     subscriptions
	services []service // longest prefix first
	conns    map[*wsConn]struct{}
	wsByAddr map[string]int // websockets by remote address

	parkMu sync.Mutex     // guards parked; taken under no other lock
	parked map[string]int // held long-polling connects by remote address
}

// New returns a Server configured by opts. Run it to expire clients.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	return &Server{
		opts:     opts,
		log:      opts.Logger,
		clients:  make(map[string]*Client),
		byAddr:   make(map[string]int),
		wsByAddr: make(map[string]int),
		parked:   make(map[string]int),
		subs:     make(subscriptions),
		conns:    make(map[*wsConn]struct{}),
	}
}

// ServeHTTP serves one request of any transport: a websocket upgrade (GET
// with Upgrade: websocket), a long-polling POST carrying a JSON message or
// array of messages, whatever its Content-Type, or a callback-polling GET
// carrying them in its message parameter. The path is not
// looked at: mount the Server at both "/prefix" and "/prefix/" so that the
// message-type suffixes some clients append reach it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.originAllowed(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write(originRefused)
		return
	}
	switch q := r.URL.Query(); {
	case strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
		s.serveWebsocket(w, r)
	case r.Method == http.MethodPost:
		s.servePoll(w, r)
	case r.Method == http.MethodGet && q.Has("message"):
		s.serveCallbackPoll(w, r, q)
	default:
		w.Header().Set("Allow", "POST, GET")
		http.Error(w, "bayeux: POST messages, GET them as callback-polling or upgrade to websocket", http.StatusMethodNotAllowed)
	}
}

// originRefused is the body of a request refused by Options.CheckOrigin.
var originRefused = []byte(`{"error":"403::origin not allowed","successful":false}` + "\n")

// originAllowed reports whether Options.CheckOrigin admits the page r
// comes from: its Origin header, or, for a request without one, the
// origin of its Referer when the request is a callback-polling GET (a
// browser loads that script without Origin, but names the page in Referer
// unless the page's referrer policy forbids it). A request that names no
// page is admitted.
func (s *Server) originAllowed(r *http.Request) bool {
	if s.opts.CheckOrigin == nil {
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" && r.Method == http.MethodGet && r.URL.Query().Has("message") {
		origin = refererOrigin(r.Header.Get("Referer"))
	}
	if origin == "" || s.opts.CheckOrigin(origin) {
		return true
	}
	s.log.Debug("bayeux: origin refused", "origin", origin)
	return false
}

// refererOrigin returns the origin (scheme://host[:port]) of a Referer
// value, "" when there is none, or "null" when it is no absolute URL, which
// no allowed origin matches.
func refererOrigin(referer string) string {
	if referer == "" {
		return ""
	}
	u, err := url.Parse(referer)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "null"
	}
	return u.Scheme + "://" + u.Host
}

// HandleService routes publishes on channels starting with prefix (for
// instance "/service/chatV2/") to f. The longest matching prefix wins. Call
// it before serving.
func (s *Server) HandleService(prefix string, f ServiceFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.services = append(s.services, service{prefix: prefix, f: f})
	slices.SortStableFunc(s.services, func(a, b service) int { return len(b.prefix) - len(a.prefix) })
}

// Client returns the client with id, or nil if there is none.
func (s *Server) Client(id string) *Client {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.clients[id]
}

// Run removes expired clients until ctx is done, then closes the server. It
// returns nil. Without Run, clients never expire.
func (s *Server) Run(ctx context.Context) error {
	t := time.NewTicker(s.sweepPeriod())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.Close()
			return nil
		case <-t.C:
			s.sweep()
		}
	}
}

// sweepPeriod is how often Run looks for expired clients: often enough that
// a client outlives MaxInterval by a small fraction of it.
func (s *Server) sweepPeriod() time.Duration {
	return min(max(s.opts.MaxInterval/4, 10*time.Millisecond), time.Second)
}

// sweep removes every client that has expired by the clock.
func (s *Server) sweep() {
	now := s.opts.Now()
	s.mu.RLock()
	var expired []*Client
	for _, c := range s.clients {
		if c.expired(now, s.opts.MaxInterval) {
			expired = append(expired, c)
		}
	}
	s.mu.RUnlock()
	for _, c := range expired {
		s.log.Debug("bayeux: client expired", "client", c.id)
		s.remove(c, ErrExpired)
	}
}

// Close removes every client with ErrServerClosed, answering their held
// connects with advice to handshake again, closes the websockets once those
// answers are written, and waits for the websocket handlers and OnClose
// callbacks to return. New handshakes are refused from then on. Close is
// idempotent; it must not be called from an OnClose callback.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	clients := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		clients = append(clients, c)
	}
	conns := make([]*wsConn, 0, len(s.conns))
	for conn := range s.conns {
		conns = append(conns, conn)
	}
	s.mu.Unlock()
	for _, c := range clients {
		s.remove(c, ErrServerClosed)
	}
	for _, conn := range conns {
		conn.shutdown()
	}
	s.wg.Wait()
}

// register adds a new client of the remote address addr. It fails with
// errServerClosed once the server is closed, and errTooManyClients when
// addr has MaxClientsPerAddr clients.
func (s *Server) register(addr string) (*Client, *Error) {
	c := newClient(s, newID())
	c.addr = addr
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, errServerClosed
	case s.opts.MaxClientsPerAddr > 0 && s.byAddr[addr] >= s.opts.MaxClientsPerAddr:
		return nil, errTooManyClients
	}
	s.clients[c.id] = c
	s.byAddr[addr]++
	return c, nil
}

// remove unregisters c and ends it for reason; the OnClose callbacks run on
// goroutines of their own, so that they never run under a caller's locks.
func (s *Server) remove(c *Client, reason error) {
	s.mu.Lock()
	if s.clients[c.id] == c {
		delete(s.clients, c.id)
		if s.byAddr[c.addr]--; s.byAddr[c.addr] <= 0 {
			delete(s.byAddr, c.addr)
		}
	}
	for ch := range c.subs {
		s.subs.remove(ch, c)
	}
	c.subs = nil
	s.mu.Unlock()
	for _, f := range c.end(reason) {
		s.wg.Go(func() { f(reason) })
	}
}

// lookup returns the live client named by a message, or nil.
func (s *Server) lookup(id string) *Client {
	if id == "" {
		return nil
	}
	return s.Client(id)
}

// service returns the ServiceFunc for channel, or nil.
func (s *Server) service(channel string) ServiceFunc {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, sv := range s.services {
		if strings.HasPrefix(channel, sv.prefix) {
			return sv.f
		}
	}
	return nil
}

// newID returns a random, unguessable client id.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// ms returns d in whole milliseconds, as advice carries it.
func ms(d time.Duration) int64 { return d.Milliseconds() }

// channelAllowed reports whether clients may subscribe or publish to ch, a
// channel other than a /meta/ one.
func (s *Server) channelAllowed(ch string) bool {
	if s.opts.Channels == nil {
		return true
	}
	for _, prefix := range s.opts.Channels {
		if strings.HasPrefix(ch, prefix) {
			return true
		}
	}
	return false
}

// park counts one more held long-polling connect of addr, and reports
// whether it may be held (MaxConnectsPerAddr); unpark undoes it.
func (s *Server) park(addr string) bool {
	s.parkMu.Lock()
	defer s.parkMu.Unlock()
	if s.opts.MaxConnectsPerAddr > 0 && s.parked[addr] >= s.opts.MaxConnectsPerAddr {
		return false
	}
	s.parked[addr]++
	return true
}

func (s *Server) unpark(addr string) {
	s.parkMu.Lock()
	defer s.parkMu.Unlock()
	if s.parked[addr]--; s.parked[addr] <= 0 {
		delete(s.parked, addr)
	}
}

// remoteHost is the IP address of a request's client, without the port.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

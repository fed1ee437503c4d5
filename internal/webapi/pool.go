package webapi

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/wire"
)

// flexPath is where a chat server serves its customer side.
const flexPath = "/wire/flex"

// Limits of the connections to chat servers.
const (
	// maxWireMessage is the largest message read from a chat server: a
	// refresh from position 1 carries a whole transcript.
	maxWireMessage = 16 << 20
	// pingInterval detects a dead chat server between requests.
	pingInterval = 10 * time.Second
	// maxStatusBody bounds the GET /status body read.
	maxStatusBody = 64 << 10
	// requestQueue bounds the messages queued to one chat server. The one
	// connection carries the requests of every chat of this web API there,
	// so a burst of thousands must not count as a slow consumer (which
	// would cut every chat's pushes at once); only a chat server that
	// stopped reading for good is.
	requestQueue = 1 << 16
)

// Why a chat server cannot take a request; each maps to an error envelope.
var (
	// ErrNoChatServer means no connected chat server takes new chats.
	ErrNoChatServer = errors.New("webapi: no chat server available")
	// errUnknownAlias means the request's alias names no chat server of
	// this web API.
	errUnknownAlias = errors.New("webapi: unknown alias")
	// errUnreachable means the chat server that owns a chat is not
	// connected now.
	errUnreachable = errors.New("webapi: chat server unreachable")
)

// chatServer is one chat server of the pool: its reconnecting flex
// connection and its last status.
type chatServer struct {
	name   string
	ep     service.Endpoint
	client *wire.Client

	mu      sync.Mutex // guards status, polled, fresh and created
	status  serverStatus
	polled  bool // a status read has been tried
	fresh   bool // the last status read succeeded
	created int  // chats this web API created there since that read
}

// serverStatus is a chat server's GET /status.
type serverStatus struct {
	Name             string `json:"name"`
	Accepting        bool   `json:"accepting"`
	Disabled         bool   `json:"disabled"`
	SessionsCurrent  int64  `json:"sessions_current"`
	LimitForSessions int    `json:"limit_for_sessions"`
}

// pool is the chat servers of a web API, by name.
type pool struct {
	servers map[string]*chatServer
	set     config.WebAPISettings
	http    *http.Client
	trust   *service.Trust
	log     *slog.Logger
	started atomic.Int64 // unix nanoseconds of start; 0 before
}

// newPool returns the pool of eps; each connection proves the web API with
// trust before it carries a request.
func newPool(eps map[string]service.Endpoint, trust *service.Trust, set config.WebAPISettings, log *slog.Logger, h wire.Handler) *pool {
	cl := trust.HTTPClient(0)
	cl.Transport.(*http.Transport).ResponseHeaderTimeout = set.RequestTimeout
	p := &pool{servers: make(map[string]*chatServer, len(eps)), set: set, http: cl, trust: trust, log: log}
	for name, ep := range eps {
		opts := wire.ClientOptions{Options: trust.WireOptions(wire.Options{MaxMessageSize: maxWireMessage,
			PingInterval: pingInterval, QueueSize: requestQueue, Logger: log}),
			OnConnect: func(ctx context.Context, c *wire.Conn) error { return p.handshake(ctx, c, ep) }}
		p.servers[name] = &chatServer{name: name, ep: ep, client: wire.NewClient(ep.URL("ws", flexPath), h, opts)}
	}
	return p
}

// handshake proves the web API to the chat server ep on a new connection.
func (p *pool) handshake(ctx context.Context, c *wire.Conn, ep service.Endpoint) error {
	err := p.trust.Handshake(ctx, c, ep)
	if err != nil {
		p.log.Warn("the chat server did not admit this web api", "chat_server", ep.Name, "err", err)
	}
	return err
}

// get sends a GET for path to the chat server ep, signed as the web API.
func (p *pool) get(ctx context.Context, ep service.Endpoint, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL("http", path), nil)
	if err != nil {
		return nil, err
	}
	p.trust.Sign(req, ep)
	return p.http.Do(req)
}

// start runs each chat server's connection and status poller on wg until
// ctx is done.
func (p *pool) start(ctx context.Context, wg *sync.WaitGroup) {
	p.started.Store(time.Now().UnixNano())
	for _, cs := range p.servers {
		wg.Go(func() { cs.client.Run(ctx) })
		wg.Go(func() { p.poll(ctx, cs) })
	}
}

// stop releases the idle HTTP connections to chat servers, once nothing
// uses them any more.
func (p *pool) stop() { p.http.CloseIdleConnections() }

// poll reads the chat server's status every status-poll-interval.
func (p *pool) poll(ctx context.Context, cs *chatServer) {
	t := time.NewTicker(p.set.StatusPollInterval)
	defer t.Stop()
	for {
		st, err := p.readStatus(ctx, cs.ep)
		if err != nil && ctx.Err() == nil {
			p.log.Debug("chat server status not read", "chat_server", cs.name, "err", err)
		}
		cs.setStatus(st, err == nil)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *pool) readStatus(ctx context.Context, ep service.Endpoint) (serverStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, p.set.RequestTimeout)
	defer cancel()
	var st serverStatus
	addr := ep.Addr
	resp, err := p.get(ctx, ep, "/status")
	if err != nil {
		return st, fmt.Errorf("webapi: status of %s: %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("webapi: status of %s: HTTP %d", addr, resp.StatusCode)
	}
	if st, err = decodeServerStatus(resp.Body); err != nil {
		return st, fmt.Errorf("webapi: status of %s: %w", addr, err)
	}
	return st, nil
}

// decodeServerStatus reads a chat server's GET /status reply, at most
// maxStatusBody bytes of it. Its errors are encoding/json's.
func decodeServerStatus(body io.Reader) (serverStatus, error) {
	var st serverStatus
	err := json.NewDecoder(io.LimitReader(body, maxStatusBody)).Decode(&st)
	return st, err
}

func (cs *chatServer) setStatus(st serverStatus, ok bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.status, cs.polled, cs.fresh, cs.created = st, true, ok, 0
}

// settled reports whether the pool has had its first look at every chat
// server: each status read once, and the connection up to each that
// answered; or request-timeout has passed since start, whatever their
// state. Until then a new chat could be refused for want of a chat server
// that is merely not connected yet.
func (p *pool) settled(now time.Time) bool {
	started := p.started.Load()
	if started == 0 {
		return false
	}
	if now.Sub(time.Unix(0, started)) >= p.set.RequestTimeout {
		return true
	}
	for _, cs := range p.servers {
		cs.mu.Lock()
		polled, fresh := cs.polled, cs.fresh
		cs.mu.Unlock()
		if !polled || fresh && !cs.client.Connected() {
			return false
		}
	}
	return true
}

// load is what selection orders by, and whether the server takes new chats.
func (cs *chatServer) load() (int64, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	ok := cs.fresh && cs.status.Accepting && cs.client.Connected()
	// A status read off the wire is bounded before the sum, so that no
	// figure a server reports can wrap around and make it look idle.
	current := min(max(cs.status.SessionsCurrent, 0), maxReportedSessions)
	return current + int64(cs.created), ok
}

// maxReportedSessions bounds the session count a chat server's status may
// claim: far above any real server, far below overflow.
const maxReportedSessions = 1 << 40

// reserve counts a chat about to be created there, so that concurrent
// requests spread before the next status read.
func (cs *chatServer) reserve() {
	cs.mu.Lock()
	cs.created++
	cs.mu.Unlock()
}

// unreserve takes back a chat counted by reserve that did not land there.
func (cs *chatServer) unreserve() {
	cs.mu.Lock()
	cs.created = max(cs.created-1, 0) // a status read in between reset it
	cs.mu.Unlock()
}

// candidates returns the chat servers that take new chats, least loaded
// first (ties by name).
func (p *pool) candidates() []*chatServer {
	type scored struct {
		cs   *chatServer
		load int64
	}
	var ok []scored
	for _, name := range slices.Sorted(maps.Keys(p.servers)) {
		cs := p.servers[name]
		if l, accepting := cs.load(); accepting {
			ok = append(ok, scored{cs, l})
		}
	}
	slices.SortStableFunc(ok, func(a, b scored) int { return cmp.Compare(a.load, b.load) })
	out := make([]*chatServer, len(ok))
	for i, s := range ok {
		out[i] = s.cs
	}
	return out
}

// owner returns the chat server a chat's requests go to, by the alias the
// client carries. This is the one place that decides where an existing chat
// is served: restoration on another chat server belongs here.
func (p *pool) owner(alias string) (*chatServer, *wire.Conn, error) {
	cs, ok := p.servers[alias]
	if !ok {
		return nil, nil, errUnknownAlias
	}
	conn := cs.client.Conn()
	if conn == nil || conn.Err() != nil {
		return nil, nil, errUnreachable
	}
	return cs, conn, nil
}

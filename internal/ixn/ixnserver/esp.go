package ixnserver

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/wire"
)

// The ESP relay (docs/ixn.md, ESP): a workflow (a routing client, or the
// built-in router's queue configuration) sends Request3rdServer naming an
// interaction, and the interaction server passes it to the chat server
// that holds the chat, over an authenticated link to that chat server's ESP
// side, and returns its answer. A chat server sends a Purge through it too
// (session-restore-do-purge).

// RoutedByInteraction lists the requests this server serves that name an
// interaction in their body's interactionId and touch nothing else: a
// cluster proxy sends each to the node that holds that interaction.
var RoutedByInteraction = []string{wire.Request3rdServer}

const (
	// espPath is where a chat server serves ESP (chatserver.ESPPath; a role
	// does not import another role).
	espPath = "/wire/esp"
	// espConnectWait bounds how long a relayed request waits for the link to
	// its chat server to come up: a chat server that died answers no sooner.
	espConnectWait = 3 * time.Second
	// espTimeout bounds one relayed request, the chat server's work included.
	espTimeout = 20 * time.Second
	// propChatServer is the interaction property naming the chat server
	// that holds the chat (chatserver.PropChatServerApplication).
	propChatServer = "ChatServerApplication"
)

// espRelay keeps one redialling link to each chat server that ESP requests
// went to, dialled on first use, and runs the relayed requests. Its links
// and requests live until stop.
type espRelay struct {
	s *Server

	mu      sync.Mutex // guards the fields below
	ctx     context.Context
	links   map[string]*wire.Client
	stopped bool
	wg      sync.WaitGroup // links and requests; Add only under mu while !stopped
}

// start makes the relay serve until the returned func, which waits for its
// goroutines, is called.
func (r *espRelay) start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	r.mu.Lock()
	r.ctx, r.stopped, r.links = ctx, false, map[string]*wire.Client{}
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		r.stopped = true
		r.mu.Unlock()
		cancel()
		r.wg.Wait()
	}
}

// spawn runs f in a goroutine the relay owns, or reports false once it
// stopped.
func (r *espRelay) spawn(f func(ctx context.Context)) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.ctx == nil {
		return false
	}
	r.wg.Add(1)
	ctx := r.ctx
	go func() {
		defer r.wg.Done()
		f(ctx)
	}()
	return true
}

// link returns the link to chat server ep, dialling it the first time.
func (r *espRelay) link(ep service.Endpoint) *wire.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	if l := r.links[ep.Name]; l != nil || r.stopped {
		return l
	}
	t := r.s.cfg.Trust
	opts := wire.ClientOptions{Options: t.WireOptions(r.s.wireOpts), MaxBackoff: time.Second,
		OnConnect: func(ctx context.Context, c *wire.Conn) error { return t.Handshake(ctx, c, ep) }}
	l := wire.NewClient(ep.URL("ws", espPath), wire.HandlerFunc(func(context.Context, *wire.Conn, wire.Message) {}), opts)
	r.links[ep.Name] = l
	r.wg.Add(1)
	ctx := r.ctx
	go func() {
		defer r.wg.Done()
		_ = l.Run(ctx)
	}()
	return l
}

// send relays req to chat server name and returns its answer's body.
func (r *espRelay) send(ctx context.Context, name string, req ixn.ServiceRequest) (json.RawMessage, error) {
	ep, ok := r.s.cfg.ChatServers[name]
	if !ok {
		return nil, wire.Errorf(wire.CodeBadRequest, "no chat server %q is connected to this interaction server", name)
	}
	l := r.link(ep)
	if l == nil {
		return nil, wire.Errorf(wire.CodeShuttingDown, "the interaction server is stopping")
	}
	if err := waitConnected(ctx, l); err != nil {
		return nil, wire.Errorf(wire.CodeUnavailable, "chat server %s cannot be reached", name)
	}
	req.AppName = name
	var raw json.RawMessage
	if _, err := l.Request(ctx, wire.Request3rdServer, req, &raw); err != nil {
		if we := wire.AsError(err); we != nil {
			return nil, we
		}
		return nil, wire.Errorf(wire.CodeUnavailable, "chat server %s did not answer: %v", name, err)
	}
	return raw, nil
}

// waitConnected waits, at most espConnectWait, for l to have a connection.
func waitConnected(ctx context.Context, l *wire.Client) error {
	ctx, cancel := context.WithTimeout(ctx, espConnectWait)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !l.Connected() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// relayESP serves Request3rdServer from p: it checks the client and the
// interaction under s.mu, then relays the request without holding it and
// answers with the chat server's Event3rdServerResponse or its error.
func (s *Server) relayESP(p *peer, c *wire.Conn, m wire.Message) {
	var req ixn.ServiceRequest
	err := m.Bind(&req)
	var targets []string
	if err == nil {
		targets, err = s.espTargets(p, req)
	}
	if err == nil && !s.esp.spawn(func(ctx context.Context) { s.relay(ctx, c, m, req, targets) }) {
		err = wire.Errorf(wire.CodeShuttingDown, "the interaction server is stopping")
	}
	if err != nil {
		_ = c.ReplyError(m, err)
	}
}

// relay tries targets in order until one answers other than unreachable.
func (s *Server) relay(ctx context.Context, c *wire.Conn, m wire.Message, req ixn.ServiceRequest, targets []string) {
	ctx, cancel := context.WithTimeout(ctx, espTimeout)
	defer cancel()
	var err error
	for _, name := range targets {
		var raw json.RawMessage
		if raw, err = s.esp.send(ctx, name, req); err == nil {
			_ = c.Reply(m, wire.Event3rdServerResponse, raw)
			return
		}
		if !tryNext(req, err) {
			break
		}
	}
	s.log.Info("ESP request refused", "interaction", req.InteractionID, "method", req.Method, "err", err)
	_ = c.ReplyError(m, err)
}

// tryNext reports whether a relay that failed with err goes on with the
// next chat server: one that cannot be reached, or, for a Restore, one that
// does not restore for workflows.
func tryNext(req ixn.ServiceRequest, err error) bool {
	we := wire.AsError(err)
	return we != nil && (we.Code == wire.CodeUnavailable || req.Method == "Restore" && we.Code == wire.CodeNotAllowed)
}

// espTargets checks that p may send req and returns the chat servers to try,
// in order: AppName when set; for a Restore without one, every chat server
// but the one that holds the chat, then that one; else the one that holds
// it.
func (s *Server) espTargets(p *peer, req ixn.ServiceRequest) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.espAllowed(p, req); err != nil {
		return nil, err
	}
	in, ok := s.engine.Interaction(req.InteractionID)
	if !ok && req.Method != "Purge" { // a purge may follow the chat's end
		return nil, wire.Errorf(wire.CodeNoSuchInteraction, "no such interaction: %s", req.InteractionID)
	}
	holder := in.Properties[propChatServer]
	switch {
	case req.AppName != "":
		return []string{req.AppName}, nil
	case req.Method == "Restore":
		others := slices.DeleteFunc(slices.Sorted(maps.Keys(s.cfg.ChatServers)), func(n string) bool { return n == holder })
		if holder != "" {
			others = append(others, holder)
		}
		return others, nil
	case holder == "":
		return nil, wire.Errorf(wire.CodeInvalidState, "interaction %s names no chat server", req.InteractionID)
	}
	return []string{holder}, nil
}

// espAllowed checks that p may send req now: a routing client (a
// workflow), or a media server purging. s.mu must be held.
func (s *Server) espAllowed(p *peer, req ixn.ServiceRequest) error {
	switch {
	case p.kind == "":
		return wire.Errorf(wire.CodeNotRegistered, "register first with RequestRegisterClient")
	case p.kind != kindRouting && !(p.kind == kindMediaServer && req.Method == "Purge"):
		return wire.Errorf(wire.CodeNotAllowed, "Request3rdServer %s is not allowed for a %s client", req.Method, p.kind)
	case s.closing:
		return wire.Errorf(wire.CodeShuttingDown, "")
	case !s.ready:
		return wire.Errorf(wire.CodeUnavailable, "backup: this interaction server is not the primary")
	case req.InteractionID == "" || req.Method == "":
		return wire.Errorf(wire.CodeBadRequest, "interactionId and method required")
	}
	return nil
}

// treatments resolves the ESP requests of the queues' treatments to the
// chat servers that hold their chats and returns what relays them, each in
// its own goroutine: a greeting or a waiting notice that cannot be said is
// logged and not retried. s.mu must be held.
func (s *Server) treatments(reqs []ixn.ServiceRequest) func() {
	type relayed struct {
		to  string
		req ixn.ServiceRequest
	}
	var todo []relayed
	for _, r := range reqs {
		in, ok := s.engine.Interaction(r.InteractionID)
		if holder := in.Properties[propChatServer]; ok && holder != "" {
			todo = append(todo, relayed{holder, r})
		}
	}
	return func() {
		for _, t := range todo {
			s.esp.spawn(func(ctx context.Context) {
				ctx, cancel := context.WithTimeout(ctx, espTimeout)
				defer cancel()
				if _, err := s.esp.send(ctx, t.to, t.req); err != nil {
					s.log.Info("queue treatment not said", "interaction", t.req.InteractionID, "chat_server", t.to, "err", err)
				}
			})
		}
	}
}

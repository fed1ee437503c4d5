package chatserver

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// The interaction properties a chat server sets on every chat's
// interaction: where the chat lives. Genesys does not publish the keys its
// Chat Server writes; these are parley's (docs/ixn.md). They are set at
// submit and changed when another chat server restores the chat, so that a
// desktop watching the interaction reconnects to the new owner.
const (
	PropChatServerApplication = "ChatServerApplication" // the owner's application name (its alias)
	PropChatServerAddress     = "ChatServerAddress"     // the owner's listen address, host:port
	PropChatSessionID         = "ChatSessionId"         // the chat session id (the interaction id)
	// PropIsOnline is set "false" when the chat ends (Genesys's IsOnline),
	// so that a workflow follows up on an interaction left running.
	PropIsOnline = "IsOnline"
)

const (
	// ixnPath is where an interaction server serves the wire protocol
	// (ixnserver.Path; a role does not import another role).
	ixnPath = "/wire/ixn"
	// ixnTimeout bounds one request to the interaction server, and how long
	// a login waits for the first submit attempt.
	ixnTimeout = 5 * time.Second
	// ixnRetry is the pause between two attempts of requests that could not
	// be delivered.
	ixnRetry = time.Second
	// defaultQueue is where a chat whose login names no queue is submitted.
	defaultQueue = "default"
)

// ixnLink is the chat server's side of the interaction server (a media
// server in docs/ixn.md). It registers on every connection, submits every
// new chat, publishes the chat's property changes and location, stops the
// interaction of an ended chat, and closes a chat whose interaction was
// stopped there. The requests of one chat leave in order, from a goroutine
// that lives while the chat has some to send (drain); those that cannot be
// delivered wait and are retried (retry) until the interaction server takes
// them or the chat ends. A nil link (no interaction server) does nothing.
type ixnLink struct {
	s       *Server
	name    string         // clientName and submittedBy
	clients []*wire.Client // one per address: the connected one is the primary's
	wake    chan struct{}  // capacity 1: a connection came up, retry now

	mu       sync.Mutex // guards the fields below
	addr     string     // this chat server's listen address, set by start
	ctx      context.Context
	conn     *wire.Conn           // the registered connection, or nil
	claiming bool                 // a connection to a proxy is registering (IxnProxies)
	out      map[string]*outgoing // by interaction id: what it has yet to learn
	watched  map[string]bool      // restored chats followed with RequestSubscribe
	ended    map[string]bool      // interactions stopped by the interaction server
	stopped  bool                 // no new drains
	drains   sync.WaitGroup       // Add only under mu while !stopped
}

// outgoing is what the interaction server has yet to learn about one chat,
// sent in this order: the submit, the subscription, the property changes;
// a stop replaces what is left.
type outgoing struct {
	submit   *submitBody
	first    chan struct{} // closed after the first submit attempt; nil after
	watch    bool
	props    map[string]string
	stop     bool
	running  bool // a drain goroutine owns it
	stalled  bool // its last request could not be delivered
	reported bool // its submit failure was counted
}

// submitBody is the body of RequestSubmit.
type submitBody struct {
	InteractionID string            `json:"interactionId"`
	MediaType     string            `json:"mediaType"`
	Queue         string            `json:"queue"`
	Properties    map[string]string `json:"properties"`
	SubmittedBy   string            `json:"submittedBy"`
}

// ixnRequest is one request for the interaction server about one chat.
type ixnRequest struct {
	name  string
	body  any
	props map[string]string // for RequestChangeProperties: what it sets
}

// newIxnLink returns the link for cfg, or nil when cfg names no
// interaction server.
func newIxnLink(s *Server) *ixnLink {
	if len(s.cfg.IxnServers) == 0 {
		return nil
	}
	l := &ixnLink{s: s, name: cmp.Or(s.cfg.Options.Settings.IxnSubmittedByName, s.cfg.Name),
		wake: make(chan struct{}, 1), out: map[string]*outgoing{}, watched: map[string]bool{}, ended: map[string]bool{}}
	for _, ep := range s.cfg.IxnServers {
		opts := wire.ClientOptions{Options: s.cfg.Trust.WireOptions(s.wireOpts), MaxBackoff: time.Second,
			OnConnect: func(ctx context.Context, c *wire.Conn) error {
				if err := s.cfg.Trust.Handshake(ctx, c, ep); err != nil {
					s.log.Warn("the interaction server did not admit this chat server", "ixn", ep.Name, "err", err)
					return err
				}
				return l.onConnect(ctx, c)
			}}
		l.clients = append(l.clients, wire.NewClient(ep.URL("ws", ixnPath), l, opts))
	}
	return l
}

// start connects to the interaction server; addr is where this chat server
// listens. The returned func stops every goroutine of the link.
func (l *ixnLink) start(addr string) (stop func()) {
	if l == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.mu.Lock()
	l.addr, l.ctx = addr, ctx
	l.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range l.clients {
		wg.Go(func() { _ = c.Run(ctx) })
	}
	wg.Go(func() { l.retry(ctx) })
	return func() {
		l.mu.Lock()
		l.stopped = true
		l.mu.Unlock()
		cancel()
		l.drains.Wait()
		wg.Wait()
	}
}

// onConnect registers as a media server, then has the restored chats'
// subscriptions and every stalled request sent again.
func (l *ixnLink) onConnect(ctx context.Context, c *wire.Conn) error {
	if !l.claim() {
		return errSpareProxy // redialled later: it takes over when the proxy in use fails
	}
	defer l.unclaim()
	rctx, cancel := context.WithTimeout(ctx, ixnTimeout)
	defer cancel()
	body := map[string]string{"clientName": l.name, "clientType": "media-server"}
	if _, err := c.Request(rctx, wire.RequestRegisterClient, body, nil); err != nil {
		return fmt.Errorf("chatserver: register at the interaction server: %w", err)
	}
	l.mu.Lock()
	l.conn = c
	for id := range l.watched { // subscriptions end with their connection
		o := l.entry(id)
		o.watch, o.stalled = true, true
	}
	l.mu.Unlock()
	l.s.log.Info("registered at the interaction server", "client", l.name)
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return nil
}

// errSpareProxy refuses a connection to a proxy while the link uses
// another one of the cluster.
var errSpareProxy = errors.New("chatserver: another interaction proxy of the cluster is in use")

// claim reserves the registration for a new connection: always with
// interaction servers (only a pair's primary accepts it), and with proxies
// only while no other connection is registered or registering.
func (l *ixnLink) claim() bool {
	if !l.s.cfg.IxnProxies {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.current() != nil || l.claiming {
		return false
	}
	l.claiming = true
	return true
}

func (l *ixnLink) unclaim() {
	l.mu.Lock()
	l.claiming = false
	l.mu.Unlock()
}

// ServeWire receives the interaction server's events on the connection's
// read goroutine; what a chat does about one is handed to its session
// queue: it closes when its interaction stopped, and tells the customer a
// new queue position.
func (l *ixnLink) ServeWire(_ context.Context, _ *wire.Conn, m wire.Message) {
	var ev struct {
		InteractionID string            `json:"interactionId"`
		Reason        string            `json:"reason"`
		Properties    map[string]string `json:"properties"`
		Changed       []string          `json:"changed"`
	}
	if json.Unmarshal(m.Body, &ev) != nil || ev.InteractionID == "" {
		return
	}
	switch {
	case m.Name == wire.EventProcessingStopped:
		l.s.interactionStopped(ev.InteractionID, ev.Reason)
	case m.Name == wire.EventPropertiesChanged && ev.Properties[propQueuePosition] != "" &&
		(slices.Contains(ev.Changed, propQueuePosition) || slices.Contains(ev.Changed, propEstimatedWaitTime)):
		l.s.queuePosition(ev.InteractionID, ev.Properties[propQueuePosition], ev.Properties[propEstimatedWaitTime])
	}
}

// The interaction properties the interaction server's router sets on a
// waiting chat (ixn.PropQueuePosition, ixn.PropEstimatedWaitTime), which
// are also the userData keys of the chat's queue position notice.
const (
	propQueuePosition     = "QueuePosition"
	propEstimatedWaitTime = "EstimatedWaitTime" // whole seconds
	// queueNoticeType is the notice type of the queue position notice.
	queueNoticeType = "QUEUE_POSITION"
)

// queuePosition tells the parties of chat id, which waits in a queue, its
// position and estimated wait, in a Notice that is delivered and not
// stored: the web API shows it to the customer.
func (s *Server) queuePosition(id, pos, ewt string) {
	e := s.sessions.get(id)
	if e == nil {
		return
	}
	s.exec(e, func(context.Context) {
		if e.gone || e.sess == nil || e.sess.Closed() {
			return
		}
		data := map[string]string{propQueuePosition: pos}
		if ewt != "" {
			data[propEstimatedWaitTime] = ewt
		}
		s.deliver(e, e.sess.Inform(s.now(), queueNoticeType, queueText(pos, ewt), data).Events)
	})
}

// queueText is the queue position notice's text, for example "You are
// number 2 in the queue. Estimated wait: 1 min". An unknown or zero estimate
// is left out.
func queueText(pos, ewt string) string {
	text := "You are number " + pos + " in the queue."
	if secs, err := strconv.Atoi(ewt); err == nil && secs > 0 {
		text += fmt.Sprintf(" Estimated wait: %d min", (secs+59)/60)
	}
	return text
}

// interactionStopped closes the chat whose interaction the interaction
// server stopped (a workflow, a view, an agent): every party leaves with
// reason 5.
func (s *Server) interactionStopped(id, reason string) {
	e := s.sessions.get(id)
	if e == nil {
		return
	}
	s.exec(e, func(ctx context.Context) {
		if e.gone || e.sess == nil || e.sess.Closed() {
			return // ended here first: this is the answer to our own stop
		}
		s.log.Info("interaction stopped by the interaction server; closing the chat", "session", id, "reason", reason)
		s.ixn.forget(id)
		st, err := e.sess.Close(s.now(), transcript.ReasonServer)
		if err == nil {
			err = s.commit(ctx, e, st)
		}
		if err != nil {
			s.log.Warn("chat of a stopped interaction not closed cleanly", "session", id, "err", err)
		}
	})
}

// submit submits a new chat to queue (empty: the default queue) and waits,
// at most ixnTimeout, for the first attempt. A failed attempt does not fail
// the chat: the submit is retried in the background.
func (l *ixnLink) submit(e *entry, queue string) {
	if l == nil {
		return
	}
	props := maps.Clone(e.sess.UserData())
	if props == nil {
		props = map[string]string{}
	}
	maps.Copy(props, e.sess.Properties())
	first := make(chan struct{})
	l.mu.Lock()
	maps.Copy(props, l.location(e.id))
	l.out[e.id] = &outgoing{first: first, submit: &submitBody{InteractionID: e.id, MediaType: "chat",
		Queue: cmp.Or(queue, defaultQueue), Properties: props, SubmittedBy: l.name}}
	started := l.kick(e.id)
	l.mu.Unlock()
	if !started {
		return
	}
	t := time.NewTimer(ixnTimeout)
	defer t.Stop()
	select {
	case <-first:
	case <-t.C:
	}
}

// change publishes interaction properties the chat set.
func (l *ixnLink) change(id string, props map[string]string) {
	if l == nil || len(props) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	o := l.entry(id)
	if o.props == nil {
		o.props = map[string]string{}
	}
	maps.Copy(o.props, props)
	l.kick(id)
}

// relocate publishes the new location of a chat restored here. Unless every
// chat server shares one ixn-submittedby-name, the interaction's events go
// to the chat server that submitted it, so this one subscribes to them.
func (l *ixnLink) relocate(id string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	loc := l.location(id)
	if l.s.cfg.Options.Settings.IxnSubmittedByName == "" {
		l.watched[id] = true
		l.entry(id).watch = true
	}
	l.mu.Unlock()
	l.change(id, loc)
}

// ended tells the interaction server that chat id, whose stored events
// and times are given, ended: its interaction gets IsOnline false and the
// session statistics attach-session-statistics asks for, and is then
// stopped if stop-abandoned-interaction says so.
func (s *Server) ended(id string, events []transcript.Event, created, ended time.Time) {
	if s.ixn == nil {
		return
	}
	lo := s.options()
	end := chat.EndingOf(events, created, ended)
	props := end.Attach(lo.Settings.AttachSessionStatistics)
	props[PropIsOnline] = "false"
	s.ixn.end(id, props, end.Stop(lo.stopPolicy))
}

// end sets props on the interaction of an ended chat and, with stop, then
// stops it; unless the interaction server stopped it first.
func (l *ixnLink) end(id string, props map[string]string, stop bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.watched, id)
	if l.ended[id] {
		delete(l.ended, id)
		return
	}
	o := l.entry(id)
	if o.props == nil {
		o.props = map[string]string{}
	}
	maps.Copy(o.props, props)
	o.stop = stop
	l.kick(id)
}

// forget drops what is pending for an interaction the interaction server
// stopped.
func (l *ixnLink) forget(id string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended[id] = true
	if o := l.out[id]; o != nil {
		o.submit, o.watch, o.props = nil, false, nil
	}
}

// location is the chat's location properties. l.mu must be held.
func (l *ixnLink) location(id string) map[string]string {
	return map[string]string{PropChatServerApplication: l.s.cfg.Name, PropChatServerAddress: l.addr, PropChatSessionID: id}
}

// entry returns the pending requests of id, created empty. l.mu must be held.
func (l *ixnLink) entry(id string) *outgoing {
	o := l.out[id]
	if o == nil {
		o = &outgoing{}
		l.out[id] = o
	}
	return o
}

// kick starts a drain for id unless one runs, and reports whether one
// runs. l.mu must be held.
func (l *ixnLink) kick(id string) bool {
	o := l.out[id]
	switch {
	case o == nil || l.stopped || l.ctx == nil:
		return false
	case o.running:
		return true
	}
	o.running, o.stalled = true, false
	l.drains.Add(1)
	go l.drain(l.ctx, id)
	return true
}

// drain sends id's requests in order until none is left or one could not
// be delivered.
func (l *ixnLink) drain(ctx context.Context, id string) {
	defer l.drains.Done()
	for {
		req, ok := l.next(id)
		if !ok {
			return
		}
		err := l.request(ctx, req)
		if !l.done(id, req, err) {
			return
		}
	}
}

// next returns id's next request, or false when it has none left (the
// entry is then forgotten).
func (l *ixnLink) next(id string) (ixnRequest, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o := l.out[id]
	switch {
	case o == nil:
		return ixnRequest{}, false
	case o.stop && o.submit == nil && len(o.props) > 0: // the last properties, then the stop
		return l.changeRequest(id, o), true
	case o.stop:
		return ixnRequest{name: wire.RequestStopProcessing, body: map[string]string{"interactionId": id, "reason": "chat ended"}}, true
	case o.submit != nil:
		return ixnRequest{name: wire.RequestSubmit, body: o.submit}, true
	case o.watch:
		return ixnRequest{name: wire.RequestSubscribe, body: map[string]string{"interactionId": id}}, true
	case len(o.props) > 0:
		return l.changeRequest(id, o), true
	}
	delete(l.out, id)
	return ixnRequest{}, false
}

// changeRequest is the RequestChangeProperties of o's pending properties.
func (l *ixnLink) changeRequest(id string, o *outgoing) ixnRequest {
	props := maps.Clone(o.props)
	return ixnRequest{name: wire.RequestChangeProperties, props: props,
		body: map[string]any{"interactionId": id, "changedProperties": props}}
}

// request sends req on the registered connection.
func (l *ixnLink) request(ctx context.Context, req ixnRequest) error {
	l.mu.Lock()
	c := l.current()
	l.mu.Unlock()
	if c == nil {
		return wire.ErrNotConnected
	}
	rctx, cancel := context.WithTimeout(ctx, ixnTimeout)
	defer cancel()
	_, err := c.Request(rctx, req.name, req.body, nil)
	return err
}

// done records the outcome of req and reports whether the drain goes on.
func (l *ixnLink) done(id string, req ixnRequest, err error) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	o := l.out[id]
	if o == nil {
		return false
	}
	res := outcomeOf(req.name, err)
	if req.name == wire.RequestSubmit {
		l.submitted(id, o, res, err)
	}
	if res == retry {
		o.running, o.stalled = false, true
		l.s.log.Debug("interaction server request not delivered; will retry", "request", req.name, "session", id, "err", err)
		return false
	}
	if res == refused && req.name != wire.RequestSubmit {
		l.s.log.Warn("interaction server refused a request", "request", req.name, "session", id, "err", err)
	}
	l.apply(id, o, req)
	return true
}

// submitted counts and logs a chat's submit failure once, and lets a login
// waiting for the first attempt go on. l.mu must be held.
func (l *ixnLink) submitted(id string, o *outgoing, res outcome, err error) {
	if o.first != nil {
		close(o.first)
		o.first = nil
	}
	switch {
	case res == refused:
		l.s.log.Error("interaction server refused the chat; it is not routed", "session", id, "err", err)
	case res == sent && o.reported:
		l.s.log.Info("chat submitted to the interaction server after a retry", "session", id)
	}
	if res != sent && !o.reported {
		o.reported = true
		l.s.kpi.ixnSubmitFailed.Add(1)
		if res == retry {
			l.s.log.Warn("chat not submitted to the interaction server; retrying in the background", "session", id, "err", err)
		}
	}
}

// apply removes a request that is done (sent or refused for good) from o.
// l.mu must be held.
func (l *ixnLink) apply(id string, o *outgoing, req ixnRequest) {
	switch req.name {
	case wire.RequestStopProcessing:
		delete(l.out, id)
		o.running = false
	case wire.RequestSubmit:
		o.submit = nil
	case wire.RequestSubscribe:
		o.watch = false
	case wire.RequestChangeProperties:
		for k, v := range req.props {
			if o.props[k] == v { // not changed again meanwhile
				delete(o.props, k)
			}
		}
	}
}

// retry restarts the drains of stalled chats every ixnRetry, and at once
// when a connection comes up, until ctx is done.
func (l *ixnLink) retry(ctx context.Context) {
	tick := time.NewTicker(ixnRetry)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		case <-tick.C:
		}
		l.mu.Lock()
		if l.current() != nil {
			for id, o := range l.out {
				if o.stalled {
					l.kick(id)
				}
			}
		}
		l.mu.Unlock()
	}
}

// current returns the registered connection while it lasts. l.mu must be
// held.
func (l *ixnLink) current() *wire.Conn {
	if l.conn != nil {
		select {
		case <-l.conn.Done():
			l.conn = nil
		default:
		}
	}
	return l.conn
}

// outcome is what became of one request.
type outcome int

const (
	sent    outcome = iota // done
	retry                  // not delivered, or the server cannot serve it now
	refused                // refused for good
)

// outcomeOf classifies a request's error. A submit of an interaction that
// exists already and a stop of one that is gone are done: an earlier
// attempt whose reply was lost got through.
func outcomeOf(name string, err error) outcome {
	if err == nil {
		return sent
	}
	we, ok := errors.AsType[*wire.Error](err)
	switch {
	case !ok:
		return retry // not connected, connection lost, timed out
	case we.Code == wire.CodeUnavailable, we.Code == wire.CodeShuttingDown, we.Code == wire.CodeNotRegistered,
		we.Code == wire.CodeInternal, we.Code == wire.CodeTimeout:
		return retry
	case name == wire.RequestSubmit && we.Code == wire.CodeDuplicateInteraction,
		name == wire.RequestStopProcessing && we.Code == wire.CodeNoSuchInteraction:
		return sent
	}
	return refused
}

var _ wire.Handler = (*ixnLink)(nil)

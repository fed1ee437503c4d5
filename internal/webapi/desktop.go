package webapi

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/wire"
)

// The agent bridge: an agent desktop in a browser opens one WebSocket at
// desktopPath and speaks parley's wire protocol on it (docs/desktop.md). The
// bridge logs the agent in to the interaction server over a wire connection
// of its own, relays the agent's requests and events, and joins each chat the
// agent accepts on the chat server that holds it, following the chat when it
// moves to another chat server.

// desktopPath is where an agent desktop opens its bridge.
const desktopPath = "/desktop/ws"

// Paths of the servers the bridge dials.
const (
	ixnWirePath   = "/wire/ixn"
	basicWirePath = "/wire/basic"
)

// The chat location properties a chat server keeps on its interaction
// (docs/ixn.md, Chat integration).
const (
	propChatServer = "ChatServerApplication"
	propSessionID  = "ChatSessionId"
)

const (
	// deskMaxMessage bounds a message from a desktop page.
	deskMaxMessage = 64 << 10
	// deskQueue bounds the requests of one page waiting for the bridge.
	deskQueue = 64
	// defaultWorkbin is the workbin a chat is held in when none is named.
	defaultWorkbin = "hold"
	// relocateEvery paces the location lookups of a chat whose chat server
	// went away; relocateFor is how long the bridge keeps looking.
	relocateEvery = 250 * time.Millisecond
	relocateFor   = 2 * time.Minute
)

// errMoving answers a request on a chat that is moving to another chat server.
var errMoving = wire.Errorf(wire.CodeUnavailable, "the chat is reconnecting to another chat server; try again in a moment")

// errNoIxn is why a login fails when no interaction server takes it.
var errNoIxn = wire.Errorf(wire.CodeUnavailable, "no interaction server is reachable; try again later")

// deskRequest is the body of every request a page sends; each request reads
// the fields it needs (docs/desktop.md lists them).
type deskRequest struct {
	AgentID       string `json:"agentId"`
	Password      string `json:"password"`
	Place         string `json:"place"`
	Reason        string `json:"reason"`
	MediaType     string `json:"mediaType"`
	InteractionID string `json:"interactionId"`
	Queue         string `json:"queue"`
	Workbin       string `json:"workbin"`
	Text          string `json:"text"`
	Visibility    string `json:"visibility"`
	NoticeType    string `json:"noticeType"`
	AfterAction   string `json:"afterAction"`
	Disposition   string `json:"disposition"`
	Query         string `json:"query"`
	Name          string `json:"name"`
	ResponseID    string `json:"responseId"`
}

// deskOp serves one page request; its result is the EventAck body.
type deskOp func(a *agentSession, ctx context.Context, req deskRequest) (any, error)

// deskOps are the requests a page may send.
var deskOps = map[string]deskOp{
	wire.RequestAgentLogin:             (*agentSession).throttledLogin,
	wire.RequestAgentLogout:            (*agentSession).logout,
	wire.RequestAgentAvailable:         (*agentSession).ready,
	wire.RequestAgentNotAvailable:      (*agentSession).notReady,
	wire.RequestNotReadyForMedia:       mediaOp(wire.RequestNotReadyForMedia),
	wire.RequestCancelNotReadyForMedia: mediaOp(wire.RequestCancelNotReadyForMedia),
	wire.RequestChangeMediaStateReason: mediaOp(wire.RequestChangeMediaStateReason),
	wire.RequestAddMedia:               mediaOp(wire.RequestAddMedia),
	wire.RequestRemoveMedia:            mediaOp(wire.RequestRemoveMedia),
	wire.RequestChangeAgentStateReason: (*agentSession).changeReason,
	wire.RequestDoNotDisturbOn:         (*agentSession).dndOn,
	wire.RequestDoNotDisturbOff:        (*agentSession).dndOff,
	wire.RequestIntrude:                (*agentSession).intrude,
	wire.RequestAccept:                 (*agentSession).accept,
	wire.RequestReject:                 (*agentSession).reject,
	wire.RequestMessage:                (*agentSession).message,
	wire.RequestNotify:                 (*agentSession).notify,
	wire.RequestReleaseParty:           (*agentSession).release,
	wire.RequestTransfer:               (*agentSession).transfer,
	wire.RequestConference:             (*agentSession).conference,
	wire.RequestPlaceInWorkbin:         (*agentSession).placeInWorkbin,
	wire.RequestGetWorkbinContent:      (*agentSession).workbin,
	wire.RequestPull:                   (*agentSession).pull,
	wire.RequestGetOverview:            (*agentSession).overview,
	wire.RequestFindInteractions:       (*agentSession).liveChats,
	wire.RequestWrapUp:                 (*agentSession).wrapUp,
	wire.RequestGetContactHistory:      (*agentSession).contactHistory,
	wire.RequestGetStandardResponses:   (*agentSession).standardResponses,
	wire.RequestSaveStandardResponse:   (*agentSession).saveStandardResponse,
}

// desktops owns the bridge sessions of a web API.
type desktops struct {
	s       *Server
	backoff *auth.Backoff // logins by page address (desktop_throttle.go)

	mu       sync.Mutex      // guards ctx and stopped
	ctx      context.Context // the sessions' parent; nil before start
	stopped  bool
	sessions sync.WaitGroup // Add only under mu while !stopped
}

func newDesktops(s *Server) *desktops { return &desktops{s: s, backoff: newDeskBackoff()} }

// start lets sessions run until ctx is done, then waits on wg for them to
// end: each closes its page, its interaction server and chat server
// connections.
func (d *desktops) start(ctx context.Context, wg *sync.WaitGroup) {
	d.mu.Lock()
	d.ctx = ctx
	d.mu.Unlock()
	wg.Go(func() {
		<-ctx.Done()
		d.mu.Lock()
		d.stopped = true
		d.mu.Unlock()
		d.sessions.Wait()
	})
}

// enter registers a new session and returns its parent context; ok is false
// before start and after the stop.
func (d *desktops) enter() (context.Context, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ctx == nil || d.stopped {
		return nil, false
	}
	d.sessions.Add(1)
	return d.ctx, true
}

// anyOrigin lets wire.Accept admit every Origin: the bridge checks it
// against the allowed origins first, and the library's own check (Origin
// host equal to Host) would refuse the other allowed origins while
// admitting a DNS rebinding attacker's.
var anyOrigin = []string{"*"}

// ServeHTTP upgrades a page's request to its bridge session and serves it
// until either side ends it. Only pages of an allowed origin may connect
// (403 otherwise), so that another site cannot drive an agent's desktop.
func (d *desktops) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !d.s.originOK(r) {
		d.s.log.Debug("desktop refused", "origin", r.Header.Get("Origin"))
		http.Error(w, "pages of this origin may not open the desktop bridge (allowed-origins)", http.StatusForbidden)
		return
	}
	ctx, ok := d.enter()
	if !ok {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	defer d.sessions.Done()
	c, err := wire.Accept(w, r, wire.Options{MaxMessageSize: deskMaxMessage, PingInterval: pingInterval,
		OriginPatterns: anyOrigin, Logger: d.s.log})
	if err != nil {
		d.s.log.Debug("desktop not upgraded", "err", err)
		return
	}
	a := newAgentSession(d, c)
	a.addr = service.ClientIP(r)
	a.run(ctx)
}

// agentSession is one page's bridge: after the login, the agent's
// interaction server connection and its chats.
type agentSession struct {
	d    *desktops
	addr string // the page's IP address, for the login backoff
	page *wire.Conn
	log  *slog.Logger
	reqs chan wire.Message // the page's requests, served one at a time in order
	ctx  context.Context   // ends with the session
	wg   sync.WaitGroup    // the worker, connection readers and relocations

	mu      sync.Mutex // guards the fields below
	agentID string
	ixn     *wire.Conn
	links   map[string]*wire.Conn // basic connections, by chat server name
	chats   map[string]*deskChat  // by interaction id
}

// deskChat is a chat the agent is in.
type deskChat struct {
	id       string // the interaction and chat session id
	server   string // the chat server that holds it
	userID   string // the agent's party
	key      string // its secure key, which proves it at a rejoin
	position int    // the next transcript position the page has not seen
	link     *wire.Conn
	moving   bool   // a relocation runs
	hint     string // the chat server named by the interaction while moving
	// restoreAt is when the bridge last asked for the chat to be restored
	// for the agent (desktop_restore.go).
	restoreAt time.Time
}

func newAgentSession(d *desktops, page *wire.Conn) *agentSession {
	return &agentSession{d: d, page: page, log: d.s.log, reqs: make(chan wire.Message, deskQueue),
		links: map[string]*wire.Conn{}, chats: map[string]*deskChat{}}
}

// run serves the page until it leaves or ctx ends, then closes every
// connection of the session and waits for its goroutines.
func (a *agentSession) run(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	a.ctx = ctx
	a.wg.Go(a.work)
	_ = a.page.Serve(ctx, wire.HandlerFunc(a.onPage))
	cancel()
	a.mu.Lock()
	for _, c := range a.links {
		c.Close()
	}
	if a.ixn != nil {
		a.ixn.Close()
	}
	a.mu.Unlock()
	a.wg.Wait()
}

// onPage queues a request of the page for the worker: the page's requests
// run in the order sent, so that its messages keep their order.
func (a *agentSession) onPage(_ context.Context, c *wire.Conn, m wire.Message) {
	if m.Ref == 0 {
		return // the page sends no events
	}
	select {
	case a.reqs <- m:
	default:
		_ = c.ReplyError(m, wire.Errorf(wire.CodeUnavailable, "too many requests at once; try again"))
	}
}

func (a *agentSession) work() {
	for {
		select {
		case <-a.ctx.Done():
			return
		case m := <-a.reqs:
			a.serve(m)
		}
	}
}

// serve runs one request and answers it.
func (a *agentSession) serve(m wire.Message) {
	body, err := a.do(m)
	if err != nil {
		if we, ok := errors.AsType[*wire.Error](err); !ok || we.Code == wire.CodeInternal {
			a.log.Warn("desktop request failed", "request", m.Name, "agent", a.agent(), "err", err)
		}
		_ = a.page.ReplyError(m, readable(err))
		return
	}
	_ = a.page.Reply(m, wire.EventAck, body)
}

func (a *agentSession) do(m wire.Message) (any, error) {
	op, ok := deskOps[m.Name]
	if !ok {
		return nil, wire.Errorf(wire.CodeNotAllowed, "%s is not a request of the agent desktop", m.Name)
	}
	if m.Name != wire.RequestAgentLogin && a.agent() == "" {
		return nil, wire.Errorf(wire.CodeNotLoggedIn, "log in first")
	}
	var req deskRequest
	if err := m.Bind(&req); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(a.ctx, a.d.s.cfg.Options.Settings.RequestTimeout)
	defer cancel()
	return op(a, ctx, req)
}

// readable is err as the page shows it: a wire error as is, anything else
// as a sentence without internals.
func readable(err error) *wire.Error {
	if we, ok := errors.AsType[*wire.Error](err); ok {
		return we
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return wire.Errorf(wire.CodeTimeout, "no answer in time; try again")
	case errors.Is(err, wire.ErrClosed), errors.Is(err, wire.ErrNotConnected):
		return wire.Errorf(wire.CodeUnavailable, "a server of the contact center is not reachable; try again")
	}
	return wire.Errorf(wire.CodeInternal, "something went wrong; try again")
}

func (a *agentSession) agent() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.agentID
}

// login dials the interaction servers in turn (the backup of a pair refuses
// the registration) and logs the agent in on the first that registers it,
// then joins the chats the agent still holds (rejoinHeld). The password goes
// to the interaction server only; it is never logged.
func (a *agentSession) login(ctx context.Context, req deskRequest) (any, error) {
	if a.agent() != "" {
		return nil, wire.Errorf(wire.CodeInvalidState, "already logged in")
	}
	if req.AgentID == "" || req.Password == "" {
		return nil, wire.Errorf(wire.CodeBadRequest, "agent id and password are required")
	}
	err := error(errNoIxn)
	for _, ep := range a.d.s.cfg.IxnServers {
		var reply json.RawMessage
		reply, err = a.loginAt(ctx, ep, req)
		if err == nil {
			return a.withDispositions(reply), nil
		}
		if we, ok := errors.AsType[*wire.Error](err); ok && we.Code != wire.CodeUnavailable {
			return nil, err // a refused login, not a refused server
		}
	}
	return nil, err
}

func (a *agentSession) loginAt(ctx context.Context, ep service.Endpoint, req deskRequest) (json.RawMessage, error) {
	c, err := a.dial(ctx, ep, ixnWirePath, a.onIxn, a.ixnLost)
	if err != nil {
		return nil, fmt.Errorf("desktop: %w: %w", errNoIxn, err)
	}
	reg := map[string]string{"clientName": a.d.s.cfg.Name + "/" + req.AgentID, "clientType": "agent"}
	var reply json.RawMessage
	_, err = c.Request(ctx, wire.RequestRegisterClient, reg, nil)
	if err == nil {
		login := map[string]string{"agentId": req.AgentID, "password": req.Password, "place": req.Place}
		_, err = c.Request(ctx, wire.RequestAgentLogin, login, &reply)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	a.mu.Lock()
	a.agentID, a.ixn = req.AgentID, c
	a.mu.Unlock()
	a.log.Info("agent logged in through the desktop", "agent", req.AgentID, "ixn", ep.Name)
	return a.rejoinHeld(reply), nil
}

// dial opens a connection of the bridge to the server ep, served with h on
// the session's goroutines (lost runs when it ends), and proves the web API
// on it. A server that does not admit it is closed and reported unreachable.
func (a *agentSession) dial(ctx context.Context, ep service.Endpoint, path string, h wire.HandlerFunc, lost func(*wire.Conn)) (*wire.Conn, error) {
	trust := a.d.s.cfg.Trust
	opts := trust.WireOptions(wire.Options{MaxMessageSize: maxWireMessage, PingInterval: pingInterval, Logger: a.log})
	c, err := wire.Dial(ctx, ep.URL("ws", path), opts)
	if err != nil {
		return nil, err
	}
	a.wg.Go(func() {
		_ = c.Serve(a.ctx, h)
		lost(c)
	})
	if err := trust.Handshake(ctx, c, ep); err != nil {
		a.log.Warn("a server did not admit the desktop bridge", "server", ep.Name, "err", err)
		c.Close()
		return nil, err
	}
	return c, nil
}

// ixnLost ends the session when the agent's interaction server connection
// ends: the agent is logged out there, and the page logs in again.
func (a *agentSession) ixnLost(c *wire.Conn) {
	a.mu.Lock()
	mine := a.ixn == c
	a.mu.Unlock()
	if !mine || a.ctx.Err() != nil {
		return
	}
	_ = a.page.Notify(wire.EventAgentLogout, map[string]string{"agentId": a.agent(),
		"reason": "The connection to the interaction server was lost. Log in again."})
	a.page.Close()
}

// ixnCall sends one request to the agent's interaction server and returns
// the reply body.
func (a *agentSession) ixnCall(ctx context.Context, name string, body any) (json.RawMessage, error) {
	a.mu.Lock()
	c := a.ixn
	a.mu.Unlock()
	if c == nil {
		return nil, wire.Errorf(wire.CodeNotLoggedIn, "log in first")
	}
	if body == nil {
		body = struct{}{}
	}
	var reply json.RawMessage
	if _, err := c.Request(ctx, name, body, &reply); err != nil {
		return nil, err
	}
	return reply, nil
}

func (a *agentSession) logout(ctx context.Context, _ deskRequest) (any, error) {
	reply, err := a.ixnCall(ctx, wire.RequestAgentLogout, nil)
	if err == nil {
		a.page.Close() // the reply is queued before the close
	}
	return reply, err
}

func (a *agentSession) ready(ctx context.Context, _ deskRequest) (any, error) {
	return a.ixnCall(ctx, wire.RequestAgentAvailable, nil)
}

func (a *agentSession) notReady(ctx context.Context, req deskRequest) (any, error) {
	return a.ixnCall(ctx, wire.RequestAgentNotAvailable, map[string]string{"reason": req.Reason})
}

// mediaOp relays a per-media agent state request: the media type and, when
// given, the reason code.
func mediaOp(name string) deskOp {
	return func(a *agentSession, ctx context.Context, req deskRequest) (any, error) {
		body := map[string]string{"mediaType": req.MediaType}
		if req.Reason != "" {
			body["reason"] = req.Reason
		}
		return a.ixnCall(ctx, name, body)
	}
}

func (a *agentSession) changeReason(ctx context.Context, req deskRequest) (any, error) {
	return a.ixnCall(ctx, wire.RequestChangeAgentStateReason, map[string]string{"reason": req.Reason})
}

func (a *agentSession) dndOn(ctx context.Context, _ deskRequest) (any, error) {
	return a.ixnCall(ctx, wire.RequestDoNotDisturbOn, nil)
}

func (a *agentSession) dndOff(ctx context.Context, _ deskRequest) (any, error) {
	return a.ixnCall(ctx, wire.RequestDoNotDisturbOff, nil)
}

func (a *agentSession) reject(ctx context.Context, req deskRequest) (any, error) {
	return a.ixnCall(ctx, wire.RequestReject, map[string]string{"interactionId": req.InteractionID})
}

func (a *agentSession) conference(ctx context.Context, req deskRequest) (any, error) {
	return a.ixnCall(ctx, wire.RequestConference, map[string]string{"interactionId": req.InteractionID, "agentId": req.AgentID})
}

// transfer hands the chat to a queue or another agent; the agent leaves the
// chat when the interaction server says it no longer holds it.
func (a *agentSession) transfer(ctx context.Context, req deskRequest) (any, error) {
	body := map[string]string{"interactionId": req.InteractionID}
	switch {
	case (req.Queue == "") == (req.AgentID == ""):
		return nil, wire.Errorf(wire.CodeBadRequest, "give a queue or an agent to transfer to")
	case req.Queue != "":
		body["queue"] = req.Queue
	default:
		body["agentId"] = req.AgentID
	}
	return a.ixnCall(ctx, wire.RequestTransfer, body)
}

// placeInWorkbin holds the chat in the agent's workbin (async hold): the
// agent leaves the chat, which goes on without an agent.
func (a *agentSession) placeInWorkbin(ctx context.Context, req deskRequest) (any, error) {
	return a.ixnCall(ctx, wire.RequestPlaceInWorkbin, map[string]string{
		"interactionId": req.InteractionID, "workbin": cmp.Or(req.Workbin, defaultWorkbin)})
}

func (a *agentSession) workbin(ctx context.Context, req deskRequest) (any, error) {
	return a.ixnCall(ctx, wire.RequestGetWorkbinContent, map[string]string{"workbin": req.Workbin})
}

// overview relays the supervisor view: the interaction server's queues and
// logged-in agents, as the EventAck body.
func (a *agentSession) overview(ctx context.Context, _ deskRequest) (any, error) {
	return a.ixnCall(ctx, wire.RequestGetOverview, nil)
}

// accepted is the part of an interaction the bridge reads.
type accepted struct {
	Interaction struct {
		ID         string            `json:"interactionId"`
		Properties map[string]string `json:"properties"`
	} `json:"interaction"`
	Interactions []struct {
		ID         string            `json:"interactionId"`
		Properties map[string]string `json:"properties"`
	} `json:"interactions"`
	// Grant lets the agent join the interaction's chat (auth.Grant).
	Grant string `json:"grant"`
}

// accept takes the invitation and joins the chat.
func (a *agentSession) accept(ctx context.Context, req deskRequest) (any, error) {
	reply, err := a.ixnCall(ctx, wire.RequestAccept, map[string]string{"interactionId": req.InteractionID})
	if err != nil {
		return nil, err
	}
	var acc accepted
	if err := json.Unmarshal(reply, &acc); err != nil {
		return nil, fmt.Errorf("desktop: accept reply: %w", err)
	}
	return reply, a.joinNew(ctx, req.InteractionID, acc.Interaction.Properties, acc.Grant)
}

// intrude has a supervisor join a chat another agent handles, with the
// visibility asked (VIP monitors, INT coaches, ALL barges in; default VIP).
func (a *agentSession) intrude(ctx context.Context, req deskRequest) (any, error) {
	vis := cmp.Or(req.Visibility, "VIP")
	reply, err := a.ixnCall(ctx, wire.RequestIntrude, map[string]string{"interactionId": req.InteractionID, "visibility": vis})
	if err != nil {
		return nil, err
	}
	var acc accepted
	if err := json.Unmarshal(reply, &acc); err != nil {
		return nil, fmt.Errorf("desktop: intrude reply: %w", err)
	}
	if err := a.joinAs(ctx, req.InteractionID, acc.Interaction.Properties, acc.Grant, "Supervisor", vis); err != nil {
		_, _ = a.ixnCall(ctx, wire.RequestLeaveInteraction, map[string]string{"interactionId": req.InteractionID})
		return nil, err
	}
	return reply, nil
}

// pull takes a chat back from the agent's workbin and joins it again.
func (a *agentSession) pull(ctx context.Context, req deskRequest) (any, error) {
	reply, err := a.ixnCall(ctx, wire.RequestPull, map[string]string{"interactionId": req.InteractionID})
	if err != nil {
		return nil, err
	}
	var acc accepted
	if err := json.Unmarshal(reply, &acc); err != nil || len(acc.Interactions) != 1 {
		return nil, fmt.Errorf("desktop: pull reply: %w", cmp.Or(err, errors.New("no interaction")))
	}
	return reply, a.joinNew(ctx, req.InteractionID, acc.Interactions[0].Properties, acc.Grant)
}

// joinNew joins the chat of an interaction the agent now holds as a new
// party. When that fails (most often the chat is not on the chat server the
// interaction names: that server died, 8200, or gave the chat up, 8211) the
// agent gives the interaction back as unjoined: the interaction server keeps
// this agent away from it for reroute-exclude and backs off its routing
// until a chat server says where the chat lives, rather than offering it
// again at once, in a loop (issue 21's invitation storm).
func (a *agentSession) joinNew(ctx context.Context, id string, props map[string]string, grant string) error {
	err := a.join(ctx, id, props, grant)
	if err == nil {
		return nil
	}
	we := readable(err)
	a.log.Warn("accepted interaction not joined: giving it back", "interaction", id, "agent", a.agent(),
		"chatServer", props[propChatServer], "code", int(we.Code), "err", we.Text)
	body := map[string]string{"interactionId": id, "reason": leaveUnjoined}
	if _, lerr := a.ixnCall(ctx, wire.RequestLeaveInteraction, body); lerr != nil {
		a.log.Warn("interaction not given back after a failed join", "interaction", id, "err", lerr)
	}
	return wire.Errorf(we.Code, "could not join the chat: %s", we.Text)
}

// leaveUnjoined is the reason of a RequestLeaveInteraction that gives back an
// interaction whose chat could not be joined (docs/ixn.md).
const leaveUnjoined = "unjoined"

// chatStatus is the part of a chat server's EventStatus and EventSessionInfo
// the bridge reads; the page gets the whole body.
type chatStatus struct {
	SessionID    string `json:"sessionId"`
	UserID       string `json:"userId"`
	SecureKey    string `json:"secureKey"`
	Alias        string `json:"alias"`
	ChatEnded    bool   `json:"chatEnded"`
	NextPosition int    `json:"nextPosition"`
}

// decodeChatStatus reads a chat status a chat server sent: the reply to a
// join, or an EventSessionInfo push. Its errors are encoding/json's.
func decodeChatStatus(raw []byte) (chatStatus, error) {
	var st chatStatus
	err := json.Unmarshal(raw, &st)
	return st, err
}

// join adds the agent to the chat of interaction id with the grant the
// interaction server gave it, and keeps the party's key for a rejoin.
func (a *agentSession) join(ctx context.Context, id string, props map[string]string, grant string) error {
	return a.joinAs(ctx, id, props, grant, "Agent", "")
}

// joinAs joins the chat as a party of type userType (Agent or Supervisor)
// with visibility vis (empty: the chat server's default, ALL).
func (a *agentSession) joinAs(ctx context.Context, id string, props map[string]string, grant, userType, vis string) error {
	server := props[propChatServer]
	if sid := props[propSessionID]; sid != "" && sid != id {
		return wire.Errorf(wire.CodeBadRequest, "the interaction names another chat session")
	}
	link, err := a.link(ctx, server)
	if err != nil {
		return err
	}
	body := map[string]any{"sessionId": id, "nickname": a.agent(), "personId": a.agent(), "userType": userType, "grant": grant}
	if vis != "" {
		body["visibility"] = vis
	}
	var raw json.RawMessage
	if _, err := link.Request(ctx, wire.RequestJoin, body, &raw); err != nil {
		return err
	}
	st, err := decodeChatStatus(raw)
	if err != nil {
		return fmt.Errorf("desktop: join reply: %w", err)
	}
	a.mu.Lock()
	a.chats[id] = &deskChat{id: id, server: server, userID: st.UserID, key: st.SecureKey, position: st.NextPosition, link: link}
	a.mu.Unlock()
	return a.page.Send(wire.Message{Name: wire.EventSessionInfo, Body: raw})
}

// link returns the agent's basic connection to a chat server of this web
// API, dialling it when there is none.
func (a *agentSession) link(ctx context.Context, server string) (*wire.Conn, error) {
	ep, ok := a.d.s.cfg.ChatServers[server]
	if !ok {
		return nil, wire.Errorf(wire.CodeUnavailable, "the chat is on a chat server this web API does not know (%q)", server)
	}
	a.mu.Lock()
	c := a.links[server]
	a.mu.Unlock()
	if c != nil && c.Err() == nil {
		return c, nil
	}
	c, err := a.dial(ctx, ep, basicWirePath, a.onChat, a.linkLost)
	if err != nil {
		return nil, fmt.Errorf("desktop: chat server %s: %w", server, wire.ErrNotConnected)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if old := a.links[server]; old != nil && old.Err() == nil {
		c.Close() // another request dialled it meanwhile
		return old, nil
	}
	a.links[server] = c
	return c, nil
}

// chatOf returns the chat of interaction id, with its connection and party.
func (a *agentSession) chatOf(id string) (deskChat, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ch := a.chats[id]
	switch {
	case ch == nil:
		return deskChat{}, wire.Errorf(wire.CodeNoSuchInteraction, "you are not in this chat")
	case ch.moving:
		return deskChat{}, errMoving
	}
	return *ch, nil
}

// chatCall sends a party request of the agent in chat id.
func (a *agentSession) chatCall(ctx context.Context, id, name string, body map[string]any) (any, error) {
	if err := a.chatRequest(ctx, id, name, body, nil); err != nil {
		return nil, err
	}
	return map[string]string{"interactionId": id}, nil
}

// chatRequest sends request name about chat id to its chat server as the
// agent's party, decoding the reply into reply (nil: not read).
func (a *agentSession) chatRequest(ctx context.Context, id, name string, body map[string]any, reply any) error {
	ch, err := a.chatOf(id)
	if err != nil {
		return err
	}
	body["sessionId"], body["userId"] = ch.id, ch.userID
	if _, err := ch.link.Request(ctx, name, body, reply); err != nil {
		return a.stale(id, err)
	}
	return nil
}

// stale starts moving chat id when err says its chat server no longer owns
// it (8211: another one restored it; 112: it became a backup), and tells the page to try again once
// the move is done; any other err is returned as is.
func (a *agentSession) stale(id string, err error) error {
	if we, ok := errors.AsType[*wire.Error](err); !ok || we.Code != wire.CodeStaleOwner && we.Code != wire.CodeBackup {
		return err
	}
	a.mu.Lock()
	if ch := a.chats[id]; ch != nil {
		a.startMove(ch, "")
	}
	a.mu.Unlock()
	return errMoving
}

// message sends a message to everyone (visibility ALL) or to the agents
// only (INT).
func (a *agentSession) message(ctx context.Context, req deskRequest) (any, error) {
	vis := cmp.Or(req.Visibility, "ALL")
	if vis != "ALL" && vis != "INT" {
		return nil, wire.Errorf(wire.CodeBadRequest, "visibility is ALL or INT")
	}
	if req.Text == "" {
		return nil, wire.Errorf(wire.CodeBadRequest, "the message is empty")
	}
	return a.chatCall(ctx, req.InteractionID, wire.RequestMessage, map[string]any{"text": req.Text, "visibility": vis})
}

// notify sends a typing notice.
func (a *agentSession) notify(ctx context.Context, req deskRequest) (any, error) {
	if req.NoticeType != "TypingStarted" && req.NoticeType != "TypingStopped" {
		return nil, wire.Errorf(wire.CodeBadRequest, "noticeType is TypingStarted or TypingStopped")
	}
	return a.chatCall(ctx, req.InteractionID, wire.RequestNotify, map[string]any{"noticeType": req.NoticeType, "text": req.Text})
}

// release leaves the chat with an after-action (ForceClose ends it for
// everyone) and gives up the interaction.
func (a *agentSession) release(ctx context.Context, req deskRequest) (any, error) {
	var left struct {
		ChatEnded bool `json:"chatEnded"`
	}
	err := a.chatRequest(ctx, req.InteractionID, wire.RequestReleaseParty, map[string]any{"afterAction": cmp.Or(req.AfterAction, "CloseIfNoAgents")}, &left)
	if err != nil && !gone(err) {
		return nil, err
	}
	a.forget(req.InteractionID)
	// A chat the agent's leaving ended is stopped here, not left: left, the
	// interaction would go back to its queue and be offered to an agent
	// until its chat server's own stop arrived.
	name, body := wire.RequestLeaveInteraction, map[string]string{"interactionId": req.InteractionID}
	if left.ChatEnded {
		name, body["reason"] = wire.RequestStopProcessing, "the agent ended the chat"
	}
	if _, lerr := a.ixnCall(ctx, name, body); lerr != nil && !gone(lerr) {
		return nil, lerr
	}
	return map[string]string{"interactionId": req.InteractionID}, nil
}

// gone reports whether err says the chat or interaction is already over for
// the agent: leaving it again is done.
func gone(err error) bool {
	we, ok := errors.AsType[*wire.Error](err)
	return ok && slices.Contains([]wire.Code{wire.CodeNoSuchSession, wire.CodeNoSuchUser, wire.CodeSessionClosed,
		wire.CodeLoggedOut, wire.CodeNoSuchInteraction, wire.CodeNotParty}, we.Code)
}

// forget drops chat id from the session.
func (a *agentSession) forget(id string) {
	a.mu.Lock()
	delete(a.chats, id)
	a.mu.Unlock()
}

// leaveChat leaves chat id without ending it, once the interaction server
// says the agent no longer holds it (transfer, workbin).
func (a *agentSession) leaveChat(id string) {
	ctx, cancel := context.WithTimeout(a.ctx, a.d.s.cfg.Options.Settings.RequestTimeout)
	defer cancel()
	_, err := a.chatCall(ctx, id, wire.RequestReleaseParty, map[string]any{"afterAction": "KeepAlive"})
	if err != nil && !gone(err) {
		a.log.Debug("desktop: chat not left", "interaction", id, "err", err)
	}
	a.forget(id)
}

// ixnEvent is the part of an interaction server event the bridge reads.
type ixnEvent struct {
	InteractionID string            `json:"interactionId"`
	AgentID       string            `json:"agentId"`
	Properties    map[string]string `json:"properties"`
}

// onIxn relays the interaction server's events to the page, and acts on
// those that concern the agent's chats.
func (a *agentSession) onIxn(_ context.Context, _ *wire.Conn, m wire.Message) {
	var ev ixnEvent
	_ = json.Unmarshal(m.Body, &ev) // events the bridge does not read go on as they are
	switch m.Name {
	case wire.EventPropertiesChanged:
		a.followProperties(ev)
		return // the page learns of a move by EventLocationChanged
	case wire.EventPartyRemoved:
		if ev.AgentID == a.agent() && a.has(ev.InteractionID) {
			a.wg.Go(func() { a.leaveChat(ev.InteractionID) })
		}
	case wire.EventProcessingStopped:
		a.forget(ev.InteractionID)
	}
	_ = a.page.Send(wire.Message{Name: m.Name, Body: m.Body})
}

func (a *agentSession) has(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.chats[id] != nil
}

// onChat relays a chat server's pushes to the page, keeping each chat's
// position for a rejoin.
func (a *agentSession) onChat(_ context.Context, _ *wire.Conn, m wire.Message) {
	if m.Name != wire.EventSessionInfo {
		return
	}
	st, err := decodeChatStatus(m.Body)
	if err != nil {
		return
	}
	a.mu.Lock()
	if ch := a.chats[st.SessionID]; ch != nil && ch.userID == st.UserID {
		ch.position = max(ch.position, st.NextPosition)
	}
	a.mu.Unlock()
	_ = a.page.Send(wire.Message{Name: m.Name, Body: m.Body})
}

package ixnserver

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/wire"
)

// reply is what a handler answers: the reply message (EventAck when name is
// empty) with its body, the engine's output, and optional work to run on
// the committer right after the reply (a reporting replay).
type reply struct {
	name  string
	body  any
	out   ixn.Output
	after func(ctx context.Context)
}

// handler serves one request; it runs with s.mu held.
type handler func(s *Server, p *peer, m wire.Message) (reply, error)

// route is a request: who may send it and its handler.
type route struct {
	kinds []string // client types allowed; nil: any registered client
	h     handler
}

var (
	anyKind   []string
	media     = []string{kindMediaServer}
	agent     = []string{kindAgent}
	routing   = []string{kindRouting}
	operators = []string{kindMediaServer, kindRouting, kindAgent}
)

var routes = map[string]route{
	wire.RequestRegisterClient:             {anyKind, register},
	wire.RequestSubmit:                     {media, submit},
	wire.RequestChangeProperties:           {operators, changeProperties},
	wire.RequestStopProcessing:             {operators, stopProcessing},
	wire.RequestPlaceInQueue:               {operators, placeInQueue},
	wire.RequestPull:                       {[]string{kindRouting, kindAgent}, pull},
	wire.RequestDeliver:                    {routing, deliver},
	wire.RequestAgentLogin:                 {agent, agentLogin},
	wire.RequestAgentLogout:                {agent, agentLogout},
	wire.RequestAgentAvailable:             {agent, agentAvailable},
	wire.RequestAgentNotAvailable:          {agent, agentNotAvailable},
	wire.RequestAccept:                     {agent, accept},
	wire.RequestReject:                     {agent, reject},
	wire.RequestPlaceInWorkbin:             {agent, placeInWorkbin},
	wire.RequestGetWorkbinContent:          {agent, workbinContent},
	wire.RequestTransfer:                   {agent, transfer},
	wire.RequestConference:                 {agent, conference},
	wire.RequestLeaveInteraction:           {agent, leave},
	wire.RequestSubscribe:                  {anyKind, subscribe},
	wire.RequestUnsubscribe:                {anyKind, unsubscribe},
	wire.RequestGetInteractionProperties:   {anyKind, interactionProperties},
	wire.RequestGetOverview:                {anyKind, overview},
	wire.RequestLockInteraction:            {operators, lockInteraction},
	wire.RequestUnlockInteraction:          {operators, unlockInteraction},
	wire.RequestPublish:                    {anyKind, publish},
	wire.RequestIntrude:                    {agent, intrude},
	wire.RequestWorkbinNotifications:       {anyKind, workbinNotifications},
	wire.RequestCancelWorkbinNotifications: {anyKind, cancelWorkbinNotifications},
	wire.RequestTakeSnapshot:               {anyKind, takeSnapshot},
	wire.RequestGetSnapshotInteractions:    {anyKind, snapshotInteractions},
	wire.RequestReleaseSnapshot:            {anyKind, releaseSnapshot},
	wire.RequestUnregisterClient:           {anyKind, unregister},
	wire.RequestAddMedia:                   {agent, addMedia},
	wire.RequestRemoveMedia:                {agent, removeMedia},
	wire.RequestNotReadyForMedia:           {agent, notReadyForMedia},
	wire.RequestCancelNotReadyForMedia:     {agent, cancelNotReadyForMedia},
	wire.RequestDoNotDisturbOn:             {agent, dndOn},
	wire.RequestDoNotDisturbOff:            {agent, dndOff},
	wire.RequestChangeAgentStateReason:     {agent, changeAgentStateReason},
	wire.RequestChangeMediaStateReason:     {agent, changeMediaStateReason},
	wire.RequestPing:                       {anyKind, ping},
	wire.RequestFindInteractions:           {anyKind, find},
}

// find answers RequestFindInteractions with the interactions whose
// properties match the condition, at most limit (0: ixn.MaxFound).
func find(s *Server, _ *peer, m wire.Message) (reply, error) {
	var req struct {
		Condition string `json:"condition"`
		Limit     int    `json:"limit"`
	}
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	c, err := ixn.ParseCondition(req.Condition)
	if err != nil {
		return reply{}, wire.Errorf(wire.CodeBadRequest, "%s", strings.TrimPrefix(err.Error(), "ixn: "))
	}
	return reply{name: wire.EventInteractionsFound,
		body: interactionsReply{Interactions: s.engine.Find(s.clock.Now(), c, req.Limit)}}, nil
}

// ping answers a monitor: the server is up and serving (an interaction
// proxy answers 2000: monitors ask the nodes).
func ping(_ *Server, _ *peer, m wire.Message) (reply, error) {
	return reply{}, m.Bind(&empty{})
}

// wireHandler serves the requests of p. Every answer, error or not, goes
// through the committer, so that a connection's replies keep its order.
func (s *Server) wireHandler(p *peer) wire.HandlerFunc {
	return func(_ context.Context, c *wire.Conn, m wire.Message) {
		s.requests.WithLabelValues(m.Name).Inc()
		if m.Name == wire.Request3rdServer {
			s.relayESP(p, c, m) // answered by a chat server, not by the engine
			return
		}
		cred := s.authenticate(m)
		s.mu.Lock()
		defer s.mu.Unlock()
		p.cred = cred
		refuse := func(werr *wire.Error) {
			_ = c.ReplyError(m, werr)
			if werr.Code == wire.CodeRoleRefused {
				_ = c.Close() // as the catalogue says: no second try on this connection
			}
		}
		r, err := s.request(p, m)
		if err != nil {
			werr := wireError(err)
			s.dispatch(ixn.Output{}, func(context.Context) { refuse(werr) }, refuse)
			return
		}
		name := cmp.Or(r.name, wire.EventAck)
		s.dispatch(r.out, func(ctx context.Context) {
			_ = c.Reply(m, name, r.body)
			if r.after != nil {
				r.after(ctx)
			}
		}, refuse)
	}
}

// request checks that p may send m and runs its handler. s.mu must be held.
func (s *Server) request(p *peer, m wire.Message) (reply, error) {
	rt, ok := routes[m.Name]
	switch {
	case !ok:
		return reply{}, wire.Errorf(wire.CodeNotAllowed, "%s is not a request of the interaction server", m.Name)
	case p.kind == "" && m.Name != wire.RequestRegisterClient:
		return reply{}, wire.Errorf(wire.CodeNotRegistered, "register first with RequestRegisterClient")
	case rt.kinds != nil && !slices.Contains(rt.kinds, p.kind):
		return reply{}, wire.Errorf(wire.CodeNotAllowed, "%s is not allowed for a %s client", m.Name, p.kind)
	case p.kind == kindAgent && p.agent == "" && m.Name != wire.RequestAgentLogin && rt.kinds != nil:
		return reply{}, wire.Errorf(wire.CodeNotLoggedIn, "log in first with RequestAgentLogin")
	}
	if s.closing {
		return reply{}, wire.Errorf(wire.CodeShuttingDown, "")
	}
	if !s.ready { // a backup of a pair: only the primary serves
		return reply{}, wire.Errorf(wire.CodeUnavailable, "backup: this interaction server is not the primary")
	}
	return rt.h(s, p, m)
}

// codes maps the engine's errors to wire codes.
var codes = []struct {
	err  error
	code wire.Code
}{
	{ixn.ErrNoSuchInteraction, wire.CodeNoSuchInteraction},
	{ixn.ErrDuplicateInteraction, wire.CodeDuplicateInteraction},
	{ixn.ErrNoSuchQueue, wire.CodeNoSuchQueue},
	{ixn.ErrNoSuchView, wire.CodeNoSuchView},
	{ixn.ErrNoSuchAgent, wire.CodeNoSuchAgent},
	{ixn.ErrLoginFailed, wire.CodeLoginFailed},
	{ixn.ErrNotLoggedIn, wire.CodeNotLoggedIn},
	{ixn.ErrNoInvitation, wire.CodeNoInvitation},
	{ixn.ErrInvitationPending, wire.CodeInvitationPending},
	{ixn.ErrNotParty, wire.CodeNotParty},
	{ixn.ErrInvalidState, wire.CodeInvalidState},
	{ixn.ErrAgentUnavailable, wire.CodeAgentUnavailable},
	{ixn.ErrLocked, wire.CodeLocked},
	{ixn.ErrNoSuchSnapshot, wire.CodeNoSuchSnapshot},
	{ixn.ErrNotSupervisor, wire.CodeNotAllowed},
	{ixn.ErrNoSuchMedia, wire.CodeNoSuchMedia},
	{ixn.ErrNoSuchReason, wire.CodeNoSuchReason},
	{ixn.ErrInvalid, wire.CodeBadRequest},
}

// wireError gives err its code. Engine errors only name what the client
// sent, so their text goes out, without the package prefix.
func wireError(err error) *wire.Error {
	if we, ok := errors.AsType[*wire.Error](err); ok {
		return we
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return wire.Errorf(c.code, "%s", strings.ReplaceAll(err.Error(), "ixn: ", ""))
		}
	}
	return wire.Errorf(wire.CodeInternal, "")
}

// actor returns who p acts as.
func actor(p *peer) ixn.Actor { return ixn.Actor{Client: p.name, Agent: p.agent} }

func register(s *Server, p *peer, m wire.Message) (reply, error) {
	var req registerRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	switch {
	case p.kind != "":
		return reply{}, wire.Errorf(wire.CodeInvalidState, "already registered as %q", p.name)
	case req.ClientName == "":
		return reply{}, wire.Errorf(wire.CodeBadRequest, "clientName is required")
	case !slices.Contains([]string{kindMediaServer, kindAgent, kindRouting, kindReporting}, req.ClientType):
		return reply{}, wire.Errorf(wire.CodeBadRequest, "clientType must be media-server, agent, routing or reporting")
	}
	if err := admitClient(p.id, req, s.cfg.SubmitterNames); err != nil {
		s.cfg.Trust.Refuse(p.id.Name, auth.ReasonRole)
		return reply{}, err
	}
	p.name, p.kind = req.ClientName, req.ClientType
	s.clients.add(p.name, p)
	return reply{body: map[string]string{"clientName": p.name, "clientType": p.kind}}, nil
}

func submit(s *Server, p *peer, m wire.Message) (reply, error) {
	var req submitRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	if err := s.takes(req.MediaType, req.Tenant); err != nil {
		return reply{}, err
	}
	if req.InteractionID == "" {
		req.InteractionID = s.newID()
	}
	out, err := s.engine.Submit(s.clock.Now(), ixn.Submission{ID: req.InteractionID, Tenant: req.Tenant,
		MediaType: req.MediaType, Queue: req.Queue, Properties: req.Properties, SubmittedBy: cmp.Or(req.SubmittedBy, p.name)})
	if err != nil {
		return reply{}, err
	}
	return reply{body: map[string]string{"interactionId": req.InteractionID, "queue": req.Queue}, out: out}, nil
}

func changeProperties(s *Server, p *peer, m wire.Message) (reply, error) {
	var req changePropertiesRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	out, err := s.engine.ChangeProperties(s.clock.Now(), actor(p), req.InteractionID,
		req.ChangedProperties, req.AddedProperties, req.DeletedProperties)
	if err != nil {
		return reply{}, err
	}
	in, _ := s.engine.Interaction(req.InteractionID)
	return reply{body: map[string]any{"interactionId": req.InteractionID, "properties": in.Properties}, out: out}, nil
}

func stopProcessing(s *Server, p *peer, m wire.Message) (reply, error) {
	var req stopRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	out, err := s.engine.Stop(s.clock.Now(), actor(p), req.InteractionID, req.Reason)
	return idReply(req.InteractionID, out, err)
}

// idReply acknowledges an operation on interaction id.
func idReply(id string, out ixn.Output, err error) (reply, error) {
	if err != nil {
		return reply{}, err
	}
	return reply{body: map[string]string{"interactionId": id}, out: out}, nil
}

func placeInQueue(s *Server, p *peer, m wire.Message) (reply, error) {
	var req placeInQueueRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	out, err := s.engine.PlaceInQueue(s.clock.Now(), actor(p), req.InteractionID, req.Queue)
	return idReply(req.InteractionID, out, err)
}

func pull(s *Server, p *peer, m wire.Message) (reply, error) {
	var req pullRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	now := s.clock.Now()
	if p.kind == kindAgent {
		in, out, err := s.engine.TakeFromWorkbin(now, p.agent, req.InteractionID)
		if err != nil {
			return reply{}, err
		}
		return reply{name: wire.EventPulledInteractions, body: interactionsReply{Interactions: []ixn.Interaction{in},
			Grant: s.grant(p.agent, in.ID)}, out: out}, nil
	}
	if (req.View == "") == (req.Queue == "") {
		return reply{}, wire.Errorf(wire.CodeBadRequest, "give either view or queue")
	}
	list, out, err := s.engine.Pull(now, actor(p), req.View, req.Queue, req.Count)
	if err != nil {
		return reply{}, err
	}
	return reply{name: wire.EventPulledInteractions, body: interactionsReply{Interactions: nonNil(list)}, out: out}, nil
}

func nonNil(list []ixn.Interaction) []ixn.Interaction {
	if list == nil {
		return []ixn.Interaction{}
	}
	return list
}

func deliver(s *Server, p *peer, m wire.Message) (reply, error) {
	var req deliverRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	out, err := s.engine.Deliver(s.clock.Now(), actor(p), req.InteractionID, req.AgentID)
	return idReply(req.InteractionID, out, err)
}

func interactionProperties(s *Server, _ *peer, m wire.Message) (reply, error) {
	var req interactionRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	in, ok := s.engine.Interaction(req.InteractionID)
	if !ok {
		return reply{}, wire.Errorf(wire.CodeNoSuchInteraction, "no such interaction: %s", req.InteractionID)
	}
	return reply{name: wire.EventInteractionProperties, body: map[string]any{"interaction": in}}, nil
}

// overview answers RequestGetOverview with EventOverview: the queues and
// the logged-in agents, for a supervisor.
func overview(s *Server, _ *peer, m wire.Message) (reply, error) {
	if err := m.Bind(&empty{}); err != nil {
		return reply{}, err
	}
	return reply{name: wire.EventOverview, body: s.engine.Overview(s.clock.Now())}, nil
}

func subscribe(s *Server, p *peer, m wire.Message) (reply, error) {
	var req subscribeRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	if req.Topic == "" {
		if _, ok := s.engine.Interaction(req.InteractionID); !ok {
			return reply{}, wire.Errorf(wire.CodeNoSuchInteraction, "no such interaction: %s", req.InteractionID)
		}
		s.watchers.add(req.InteractionID, p)
		p.watching[req.InteractionID] = true
		return reply{body: map[string]string{"interactionId": req.InteractionID}}, nil
	}
	if req.Topic != "reporting" || req.InteractionID != "" || req.FromID < 0 {
		return reply{}, wire.Errorf(wire.CodeBadRequest, "give interactionId, or topic \"reporting\" with an optional fromId >= 1")
	}
	upTo := s.engine.LastEventID()
	from := upTo + 1 // live events only
	if req.FromID > 0 {
		from = req.FromID
	}
	s.reporters[p] = from
	name := p.name
	return reply{body: map[string]any{"topic": "reporting", "lastEventId": upTo},
		after: func(ctx context.Context) { s.replay(ctx, p, name, from, upTo) }}, nil
}

func unsubscribe(s *Server, p *peer, m wire.Message) (reply, error) {
	var req subscribeRequest
	if err := m.Bind(&req); err != nil {
		return reply{}, err
	}
	if req.Topic == "reporting" {
		delete(s.reporters, p)
		return reply{body: map[string]string{"topic": req.Topic}}, nil
	}
	s.watchers.remove(req.InteractionID, p)
	delete(p.watching, req.InteractionID)
	return reply{body: map[string]string{"interactionId": req.InteractionID}}, nil
}

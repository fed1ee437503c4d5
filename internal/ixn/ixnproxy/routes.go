package ixnproxy

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/wire"
)

// handler serves one request: it returns the reply's name (empty:
// EventAck) and body.
type handler func(ctx context.Context, s *session, m wire.Message) (string, any, error)

// routes are the requests the proxy serves, each with how it finds its
// node or nodes; any other request (Ping among them) is 2000. A new request
// of the interaction server that names an interaction is one more
// byInteraction line.
var routes = map[string]handler{
	wire.RequestRegisterClient:             register,
	wire.RequestSubmit:                     submit,
	wire.RequestChangeProperties:           byInteraction,
	wire.RequestStopProcessing:             stop,
	wire.RequestPlaceInQueue:               byInteraction,
	wire.RequestPull:                       pull,
	wire.RequestDeliver:                    byInteraction,
	wire.RequestAgentLogin:                 login,
	wire.RequestAgentLogout:                logout,
	wire.RequestAgentAvailable:             everyNode,
	wire.RequestAgentNotAvailable:          everyNode,
	wire.RequestAddMedia:                   everyNode,
	wire.RequestRemoveMedia:                everyNode,
	wire.RequestNotReadyForMedia:           everyNode,
	wire.RequestCancelNotReadyForMedia:     everyNode,
	wire.RequestDoNotDisturbOn:             everyNode,
	wire.RequestDoNotDisturbOff:            everyNode,
	wire.RequestChangeAgentStateReason:     everyNode,
	wire.RequestChangeMediaStateReason:     everyNode,
	wire.RequestLockInteraction:            byInteraction,
	wire.RequestUnlockInteraction:          byInteraction,
	wire.RequestPublish:                    byInteraction,
	wire.RequestIntrude:                    byInteraction,
	wire.RequestWorkbinNotifications:       everyNode,
	wire.RequestCancelWorkbinNotifications: everyNode,
	wire.RequestAccept:                     byInteraction,
	wire.RequestReject:                     byInteraction,
	wire.RequestPlaceInWorkbin:             byInteraction,
	wire.RequestGetWorkbinContent:          merged,
	wire.RequestTransfer:                   byInteraction,
	wire.RequestConference:                 byInteraction,
	wire.RequestLeaveInteraction:           byInteraction,
	wire.RequestSubscribe:                  subscribe,
	wire.RequestUnsubscribe:                unsubscribe,
	wire.RequestGetInteractionProperties:   byInteraction,
	wire.RequestGetOverview:                overview,
	wire.RequestFindInteractions:           merged,
	wire.Request3rdServer:                  byInteraction,
}

// errNotAccessible is the answer for a request the proxy cannot route, or
// whose node it cannot ask.
func errNotAccessible(format string, args ...any) error {
	return wire.Errorf(wire.CodeNotAccessible, format, args...)
}

func register(ctx context.Context, s *session, m wire.Message) (string, any, error) {
	var req struct {
		ClientName string `json:"clientName"`
		ClientType string `json:"clientType"`
	}
	if err := m.Bind(&req); err != nil {
		return "", nil, err
	}
	switch req.ClientType {
	case "media-server", "agent", "routing", "reporting":
	default:
		return "", nil, wire.Errorf(wire.CodeBadRequest, "clientType must be media-server, agent, routing or reporting")
	}
	if req.ClientName == "" {
		return "", nil, wire.Errorf(wire.CodeBadRequest, "clientName is required")
	}
	if err := auth.AdmitIxnClient(s.id, req.ClientName, req.ClientType, s.p.cfg.SubmitterNames[s.id.Name]); err != nil {
		s.p.cfg.Trust.Refuse(s.id.Name, auth.ReasonRole)
		return "", nil, err
	}
	s.mu.Lock()
	if s.kind != "" {
		s.mu.Unlock()
		return "", nil, wire.Errorf(wire.CodeInvalidState, "already registered as %q", s.name)
	}
	s.name, s.kind = req.ClientName, req.ClientType
	for _, n := range s.p.nodes {
		s.legs = append(s.legs, newLeg(s, n))
	}
	legs := s.legs
	s.mu.Unlock()
	for _, l := range legs {
		s.wg.Go(l.run)
	}
	for _, l := range legs { // the first requests find the nodes that are up
		l.ready(ctx)
	}
	return "", map[string]string{"clientName": req.ClientName, "clientType": req.ClientType}, nil
}

// fields reads the top-level fields of a request's body; a body that is not
// a JSON object has none.
func fields(m wire.Message) map[string]json.RawMessage {
	var f map[string]json.RawMessage
	_ = json.Unmarshal(m.Body, &f)
	return f
}

// stringField reads an optional string field; a value of another type is
// an error, as the seed has the proxy answer (2003).
func stringField(f map[string]json.RawMessage, name string) (string, error) {
	raw, ok := f[name]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", errNotAccessible("%s must be a string: the proxy cannot route the request", name)
	}
	return v, nil
}

// interactionID reads the interactionId the proxy routes m by.
func interactionID(m wire.Message) (string, error) {
	id, err := stringField(fields(m), "interactionId")
	if err == nil && id == "" {
		err = errNotAccessible("interactionId is required: the proxy cannot route the request")
	}
	return id, err
}

// forward sends m to the leg's node and returns the reply. A node that
// cannot be asked is 2003, one lost before it answered 2002; the node's own
// errors pass through.
func forward(ctx context.Context, l *leg, m wire.Message) (wire.Message, error) {
	c := l.ready(ctx)
	if c == nil {
		return wire.Message{}, errNotAccessible("the interaction server node %s cannot be reached", l.n.cfg.Name)
	}
	reply, err := c.Request(ctx, m.Name, body(m.Body), nil)
	if err == nil {
		return reply, nil
	}
	if we, ok := errors.AsType[*wire.Error](err); ok {
		return wire.Message{}, we
	}
	return wire.Message{}, wire.Errorf(wire.CodeLostServer, "lost the connection to the interaction server node %s", l.n.cfg.Name)
}

// body is what a forwarded request carries: its body, or an empty object.
func body(raw json.RawMessage) any {
	if len(raw) == 0 {
		return struct{}{}
	}
	return raw
}

// reply turns a node's reply into the handler's result.
func reply(m wire.Message, err error) (string, any, error) {
	if err != nil {
		return "", nil, err
	}
	return m.Name, body(m.Body), nil
}

// byInteraction forwards a request to the node that holds its interaction.
func byInteraction(ctx context.Context, s *session, m wire.Message) (string, any, error) {
	id, err := interactionID(m)
	if err != nil {
		return "", nil, err
	}
	l, err := s.locate(ctx, id)
	if err != nil {
		return "", nil, err
	}
	return reply(forward(ctx, l, m))
}

func stop(ctx context.Context, s *session, m wire.Message) (string, any, error) {
	name, b, err := byInteraction(ctx, s, m)
	if err == nil {
		id, _ := interactionID(m)
		s.p.cache.forget(id)
	}
	return name, b, err
}

// locate returns the leg to the node that holds interaction id: the one
// the cache names (which answers definitely, even while other nodes are
// down), else the only node that has it when every node is asked. It is
// 2100 when every node answered that it has none, 2003 when one that might
// have it cannot be asked, 2005 when several have it.
func (s *session) locate(ctx context.Context, id string) (*leg, error) {
	if n := s.p.cache.get(id); n != nil {
		if l := s.legOf(n); l != nil {
			return l, nil
		}
	}
	ask := wire.Message{Name: wire.RequestGetInteractionProperties}
	ask.Body, _ = json.Marshal(map[string]string{"interactionId": id})
	var found []*leg
	unreachable := false
	for _, r := range s.fanOut(ctx, ask) {
		we, isWire := errors.AsType[*wire.Error](r.err)
		switch {
		case r.err == nil:
			found = append(found, r.leg)
		case isWire && we.Code == wire.CodeNoSuchInteraction:
		default:
			unreachable = true
		}
	}
	switch {
	case len(found) > 1:
		return nil, wire.Errorf(wire.CodeAmbiguousInteraction, "more than one interaction server node holds interaction %s", id)
	case len(found) == 1:
		s.p.cache.put(id, found[0].n)
		return found[0], nil
	case unreachable:
		return nil, errNotAccessible("interaction %s is not accessible: a node that might hold it cannot be reached", id)
	}
	return nil, wire.Errorf(wire.CodeNoSuchInteraction, "no such interaction: %s", id)
}

// result is one node's answer to a request sent to several.
type result struct {
	leg   *leg
	reply wire.Message
	err   error
}

// fanOut sends m to every node at once and returns their answers in the
// order of the nodes.
func (s *session) fanOut(ctx context.Context, m wire.Message) []result {
	legs := s.legList()
	out := make([]result, len(legs))
	done := make(chan struct{}, len(legs))
	for i, l := range legs {
		go func() { // each ends with ctx, which the request's timeout bounds
			r, err := forward(ctx, l, m)
			out[i] = result{leg: l, reply: r, err: err}
			done <- struct{}{}
		}()
	}
	for range legs {
		<-done
	}
	return out
}

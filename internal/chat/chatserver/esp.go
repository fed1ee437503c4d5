package chatserver

import (
	"cmp"
	"context"
	"strconv"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// ESPPath is the chat server's ESP side: the interaction servers it is
// connected to relay their workflows' requests into its chats there (the
// seed's "ESP port").
const ESPPath = "/wire/esp"

// espRoles are the roles ESPPath admits: only an interaction server this
// chat server connects to.
var espRoles = []auth.Role{auth.RoleESP}

// ESPService is the service name of the chat server's ESP requests, as
// Genesys names it.
const ESPService = ixn.ChatService

// espResponse is the body of Event3rdServerResponse: the method's output
// parameters and, for Transcript, the events.
type espResponse struct {
	InteractionID string                  `json:"interactionId"`
	AppName       string                  `json:"appName"`
	Service       string                  `json:"service"`
	Method        string                  `json:"method"`
	Parameters    map[string]string       `json:"parameters"`
	Messages      []transcript.APIMessage `json:"messages,omitempty"`
}

// espOp runs one ESP method on a live session, on its drainer, and returns
// the output parameters and events.
type espOp func(ctx context.Context, e *entry, p map[string]string) (map[string]string, []transcript.Event, error)

// espOps are the methods that act on a chat this server holds. Message and
// Notice are Genesys' names; the others are parley's.
func (s *Server) espOps() map[string]espOp {
	return map[string]espOp{
		"Message":    s.espMessage,
		"Notice":     s.espNotice,
		"Join":       s.espJoin,
		"Leave":      s.espLeave,
		"Close":      s.espClose,
		"Transcript": s.espTranscript,
	}
}

func (s *Server) serveESP(p *peer) wire.HandlerFunc {
	ops := s.espOps()
	return func(_ context.Context, _ *wire.Conn, m wire.Message) {
		req, err := bindESP(m)
		if err != nil {
			s.reject(p, m, err)
			return
		}
		switch req.Method {
		case "Restore":
			s.espRestore(p, m, req)
		case "Purge":
			s.espPurge(p, m, req)
		default:
			op, ok := ops[req.Method]
			if !ok {
				s.reject(p, m, wire.Errorf(wire.CodeBadRequest, "no ESP method %q", req.Method))
				return
			}
			s.onESP(p, m, req, op)
		}
	}
}

// bindESP reads m, which must be a Request3rdServer of ESPService naming
// an interaction.
func bindESP(m wire.Message) (ixn.ServiceRequest, error) {
	var req ixn.ServiceRequest
	if m.Name != wire.Request3rdServer {
		return req, wire.Errorf(wire.CodeNotAllowed, "%s is not served on the ESP side", m.Name)
	}
	if err := m.Bind(&req); err != nil {
		return req, err
	}
	switch {
	case req.Service != ESPService:
		return req, wire.Errorf(wire.CodeBadRequest, "no ESP service %q on a chat server (want %s)", req.Service, ESPService)
	case req.InteractionID == "":
		return req, wire.Errorf(wire.CodeBadRequest, "interactionId required")
	}
	return req, nil
}

// onESP runs op on the session the request names and answers with its
// output; a session not served here gets 8200, or 8211 when another chat
// server took it.
func (s *Server) onESP(p *peer, m wire.Message, req ixn.ServiceRequest, op espOp) {
	e := s.sessions.get(req.InteractionID)
	if e == nil {
		s.reject(p, m, s.notServed(req.InteractionID))
		return
	}
	ok := s.exec(e, func(ctx context.Context) {
		if e.gone || e.sess == nil {
			s.reject(p, m, s.notServed(e.id))
			return
		}
		params := req.Parameters
		if params == nil {
			params = map[string]string{}
		}
		out, events, err := op(ctx, e, params)
		if err != nil {
			s.reject(p, m, err)
			return
		}
		p.conn.Reply(m, wire.Event3rdServerResponse, s.espAnswer(e, req, out, events))
	})
	if !ok {
		s.reject(p, m, wire.Errorf(wire.CodeShuttingDown, "the chat server is shutting down"))
	}
}

// espAnswer is the response to req: out, with this server's name, and the
// events as a supervisor sees them.
func (s *Server) espAnswer(e *entry, req ixn.ServiceRequest, out map[string]string, events []transcript.Event) espResponse {
	if out == nil {
		out = map[string]string{}
	}
	out[PropChatServerApplication] = s.cfg.Name
	r := espResponse{InteractionID: req.InteractionID, AppName: s.cfg.Name, Service: req.Service, Method: req.Method, Parameters: out}
	if events != nil {
		r.Messages = s.status(e, "", events).Messages
	}
	return r
}

// espSpeaker returns the ESP party a Message or Notice comes from: the one
// UserId names, which must be an ESP party, or else the present one called
// Nickname (default "system"), which joins first when it is not there.
func (s *Server) espSpeaker(ctx context.Context, e *entry, p map[string]string) (string, error) {
	if id := p["UserId"]; id != "" {
		return id, wireError(e.sess.CheckESP(id))
	}
	nick := cmp.Or(p["Nickname"], chat.SystemNickname)
	if id, ok := e.sess.ESPParty(nick); ok {
		return id, nil
	}
	party, st, err := e.sess.JoinESP(s.now(), newPartyID(), nick, "", nil)
	if err != nil {
		return "", wireError(err)
	}
	return party.ID, s.commit(ctx, e, st)
}

// espMessage (Message) sends MessageText, with MessageType and Visibility,
// as an ESP party.
func (s *Server) espMessage(ctx context.Context, e *entry, p map[string]string) (map[string]string, []transcript.Event, error) {
	if p["MessageText"] == "" {
		return nil, nil, wire.Errorf(wire.CodeBadRequest, "MessageText required")
	}
	from, err := s.espSpeaker(ctx, e, p)
	if err != nil {
		return nil, nil, err
	}
	st, err := e.sess.Send(s.now(), from, chat.Message{Text: p["MessageText"], MessageType: p["MessageType"],
		Visibility: transcript.Visibility(p["Visibility"])})
	return s.espCommit(ctx, e, from, st, err)
}

// espNoticeTypes maps the notice types a workflow sends (Genesys' names,
// and the Chat API's) to the events they add.
var espNoticeTypes = map[string]transcript.EventType{
	"USER_CUSTOM":              transcript.CustomNotice,
	"USER_PUSHED_URL":          transcript.PushURL,
	"PUSH_URL":                 transcript.PushURL,
	"CustomNotice":             transcript.CustomNotice,
	string(transcript.PushURL): transcript.PushURL,
}

// espNotice (Notice) sends a custom notice or a pushed URL (NoticeType,
// default USER_CUSTOM) with NoticeText as an ESP party.
func (s *Server) espNotice(ctx context.Context, e *entry, p map[string]string) (map[string]string, []transcript.Event, error) {
	t, ok := espNoticeTypes[cmp.Or(p["NoticeType"], "USER_CUSTOM")]
	if !ok {
		return nil, nil, wire.Errorf(wire.CodeBadRequest, "NoticeType %q: want USER_CUSTOM or USER_PUSHED_URL", p["NoticeType"])
	}
	from, err := s.espSpeaker(ctx, e, p)
	if err != nil {
		return nil, nil, err
	}
	st, err := e.sess.Notify(s.now(), from, chat.Notice{Type: t, Text: p["NoticeText"], Visibility: transcript.Visibility(p["Visibility"])})
	return s.espCommit(ctx, e, from, st, err)
}

// espCommit commits what an ESP party did and answers with its UserId.
func (s *Server) espCommit(ctx context.Context, e *entry, from string, st chat.Step, err error) (map[string]string, []transcript.Event, error) {
	if err != nil {
		return nil, nil, wireError(err)
	}
	if err := s.commit(ctx, e, st); err != nil {
		return nil, nil, err
	}
	return map[string]string{"UserId": from}, nil, nil
}

// espJoin (Join) adds a bot party, Nickname (default "system") with
// Visibility (default ALL); the answer's UserId names it in later requests.
func (s *Server) espJoin(ctx context.Context, e *entry, p map[string]string) (map[string]string, []transcript.Event, error) {
	party, st, err := e.sess.JoinESP(s.now(), newPartyID(), p["Nickname"], transcript.Visibility(p["Visibility"]), nil)
	return s.espCommit(ctx, e, party.ID, st, err)
}

// espLeave (Leave) removes the ESP party UserId, with AfterAction
// (KeepAlive by default) and an optional MessageText.
func (s *Server) espLeave(ctx context.Context, e *entry, p map[string]string) (map[string]string, []transcript.Event, error) {
	id := p["UserId"]
	if err := e.sess.CheckESP(id); err != nil {
		return nil, nil, wireError(err)
	}
	action := chat.KeepAlive // a bot leaving closes no chat unless asked to
	if p["AfterAction"] != "" {
		a, err := chat.ParseAfterAction(p["AfterAction"])
		if err != nil {
			return nil, nil, wireError(err)
		}
		action = a
	}
	st, err := e.sess.Leave(s.now(), id, id, action, p["MessageText"])
	return s.espCommit(ctx, e, id, st, err)
}

// espClose (Close) ends the chat: every party leaves with reason 5, and
// the chat's end stops its interaction as any end does.
func (s *Server) espClose(ctx context.Context, e *entry, _ map[string]string) (map[string]string, []transcript.Event, error) {
	st, err := e.sess.Close(s.now(), transcript.ReasonServer)
	if err != nil {
		return nil, nil, wireError(err)
	}
	s.log.Info("chat closed by a workflow (ESP)", "session", e.id)
	return nil, nil, s.commit(ctx, e, st)
}

// espTranscript (Transcript) answers with the events from FromPosition
// (default 1) as a supervisor sees them, and NextPosition.
func (s *Server) espTranscript(_ context.Context, e *entry, p map[string]string) (map[string]string, []transcript.Event, error) {
	from := 1
	if v := p["FromPosition"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, nil, wire.Errorf(wire.CodeBadRequest, "FromPosition %q: want a position from 1", v)
		}
		from = n
	}
	events := e.sess.Visible(from, transcript.Supervisor)
	if events == nil {
		events = []transcript.Event{}
	}
	return map[string]string{"NextPosition": strconv.Itoa(e.sess.NextPosition())}, events, nil
}

// espPurge (Purge) drops this server's copy of a chat another chat server
// restored (session-restore-do-purge, relayed by the interaction server),
// once the store shows the other owner at a higher epoch. Purged is "false"
// when the copy was not here.
func (s *Server) espPurge(p *peer, m wire.Message, req ixn.ServiceRequest) {
	e := s.sessions.get(req.InteractionID)
	if e == nil {
		p.conn.Reply(m, wire.Event3rdServerResponse, s.espAnswer(nil, req, map[string]string{"Purged": "false"}, nil))
		return
	}
	ok := s.exec(e, func(ctx context.Context) {
		if err := s.purge(ctx, e); err != nil {
			s.reject(p, m, err)
			return
		}
		p.conn.Reply(m, wire.Event3rdServerResponse, s.espAnswer(nil, req, map[string]string{"Purged": "true"}, nil))
	})
	if !ok {
		s.reject(p, m, wire.Errorf(wire.CodeShuttingDown, "the chat server is shutting down"))
	}
}

// purge asks the interaction server to relay a Purge of session id to chat
// server owner, retrying while the interaction server cannot be reached
// (for ixnTimeout at most); an answer of the interaction server or the old
// owner, whatever it is, ends it: an owner that died holds no copy.
func (l *ixnLink) purge(owner, id string) {
	req := ixnRequest{name: wire.Request3rdServer,
		body: ixn.ServiceRequest{InteractionID: id, AppName: owner, Service: ESPService, Method: "Purge"}}
	l.s.spawn(func() {
		ctx, cancel := context.WithTimeout(l.s.work, 2*ixnTimeout)
		defer cancel()
		for {
			err := l.request(ctx, req)
			if err == nil || wire.AsError(err) != nil || ctx.Err() != nil {
				l.s.log.Info("purge of the previous owner's copy sent through the interaction server",
					"owner", owner, "session", id, "err", err)
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(ixnRetry):
			}
		}
	})
}

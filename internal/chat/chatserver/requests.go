package chatserver

import (
	"cmp"
	"context"
	"strings"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// side is which kind of connection a request came on.
type side int

const (
	flexSide  side = iota // the web API, on behalf of clients
	basicSide             // agent desktops and bots
)

// partyOp is the body of a request on an existing session, run by the
// session's drainer once the requester is authenticated.
type partyOp func(ctx context.Context, e *entry, who transcript.Party) (status, error)

func (s *Server) serveFlex(p *peer) wire.HandlerFunc {
	s.watchFlex(p)
	return func(_ context.Context, c *wire.Conn, m wire.Message) {
		if s.refuseAsBackup(p, m) {
			return
		}
		switch m.Name {
		case wire.RequestLogin:
			s.login(p, m)
		case wire.RequestSubscribe:
			s.subscribe(p, m)
		case wire.RequestUnsubscribe:
			s.unsubscribe(p, m)
		case wire.RequestRestore:
			s.restore(p, m)
		default:
			s.partyRequest(p, m, flexSide)
		}
	}
}

func (s *Server) serveBasic(p *peer) wire.HandlerFunc {
	return func(_ context.Context, c *wire.Conn, m wire.Message) {
		if s.refuseAsBackup(p, m) {
			return
		}
		switch m.Name {
		case wire.RequestJoin:
			s.join(p, m)
		case wire.RequestRestore:
			s.agentRestore(p, m)
		default:
			s.partyRequest(p, m, basicSide)
		}
	}
}

// partyRequest serves the requests both sides share.
func (s *Server) partyRequest(p *peer, m wire.Message, sd side) {
	switch m.Name {
	case wire.RequestRefresh:
		var req refreshRequest
		s.run(p, m, sd, &req, &req.partyRef, func(_ context.Context, e *entry, who transcript.Party) (status, error) {
			return s.refresh(e, who, req.TranscriptPosition), nil
		})
	case wire.RequestMessage:
		var req messageRequest
		s.run(p, m, sd, &req, &req.partyRef, func(ctx context.Context, e *entry, who transcript.Party) (status, error) {
			st, err := e.sess.Send(s.now(), who.ID, chat.Message{Text: req.Text, MessageType: req.MessageType,
				Visibility: req.Visibility, UserData: req.UserData, EventAttributes: req.EventAttributes})
			return s.apply(ctx, e, who, st, err, req.TranscriptPosition)
		})
	case wire.RequestNotify:
		var req notifyRequest
		s.run(p, m, sd, &req, &req.partyRef, func(ctx context.Context, e *entry, who transcript.Party) (status, error) {
			st, err := e.sess.Notify(s.now(), who.ID, chat.Notice{Type: req.NoticeType, Text: req.Text,
				Visibility: req.Visibility, UserData: req.UserData, EventAttributes: req.EventAttributes})
			return s.apply(ctx, e, who, st, err, req.TranscriptPosition)
		})
	case wire.RequestUpdateData:
		var req updateDataRequest
		s.run(p, m, sd, &req, &req.partyRef, func(ctx context.Context, e *entry, who transcript.Party) (status, error) {
			if err := e.sess.UpdateData(who.ID, req.UserData); err != nil {
				return status{}, wireError(err)
			}
			return e.quiet(who.ID, s.status(e, who.ID, nil)), nil
		})
	case wire.RequestReleaseParty, wire.RequestLogout:
		var req releaseRequest
		s.run(p, m, sd, &req, &req.partyRef, s.releaseOp(&req, sd))
	default:
		s.reject(p, m, wire.Errorf(wire.CodeNotAllowed, "%s is not served on this connection", m.Name))
	}
}

// run binds the request body, then queues op on the session it names, to
// run after the requester is authenticated; the op's result is the reply.
func (s *Server) run(p *peer, m wire.Message, sd side, body any, ref *partyRef, op partyOp) {
	if err := m.Bind(body); err != nil {
		s.reject(p, m, err)
		return
	}
	s.asParty(p, m, sd, ref, op)
}

// asParty queues op on the session ref names, to run once the requester
// is authenticated as ref's party; the op's result is the reply.
func (s *Server) asParty(p *peer, m wire.Message, sd side, ref *partyRef, op partyOp) {
	s.onSession(p, m, ref.SessionID, func(ctx context.Context, e *entry) (status, error) {
		who, err := s.authenticate(ctx, p, e, *ref, sd)
		if err != nil {
			return status{}, err
		}
		e.sess.Touch(s.now(), who.ID)
		return op(ctx, e, who)
	})
}

// onSession queues f on the session named id and answers the request with
// f's result; it answers at once when there is no such session or the
// server is stopping.
func (s *Server) onSession(p *peer, m wire.Message, id string, f func(context.Context, *entry) (status, error)) {
	e := s.sessions.get(id)
	if e == nil {
		s.reject(p, m, s.notServed(id))
		return
	}
	ok := s.exec(e, func(ctx context.Context) {
		st, err := f(ctx, e)
		if err != nil {
			s.reject(p, m, err)
			return
		}
		p.conn.Reply(m, wire.EventStatus, st)
	})
	if !ok {
		s.reject(p, m, wire.Errorf(wire.CodeShuttingDown, "the chat server is shutting down"))
	}
}

// reject answers m with err; a peer refused a role (111) is disconnected.
func (s *Server) reject(p *peer, m wire.Message, err error) {
	if err := p.conn.ReplyError(m, err); err != nil {
		s.log.Debug("error reply not sent", "request", m.Name, "err", err)
	}
	if werr := wire.AsError(err); werr != nil && werr.Code == wire.CodeRoleRefused {
		_ = p.conn.Close() // as the catalogue says: no second try on this connection
	}
}

// authenticate finds the requester in the session. A client is named by its
// userId and proven by its secureKey: a wrong key removes it (reason 6) and
// reveals nothing. An agent-side party must have joined on this connection.
// A party that left may still read a session that has ended.
func (s *Server) authenticate(ctx context.Context, p *peer, e *entry, ref partyRef, sd side) (transcript.Party, error) {
	if e.gone || e.sess == nil {
		return transcript.Party{}, s.notServed(e.id)
	}
	party, present, err := e.sess.Party(ref.UserID)
	if err != nil || (sd == flexSide) != (party.Type == transcript.Client) {
		return transcript.Party{}, wire.Errorf(wire.CodeNoSuchUser, "no such user in the session")
	}
	if sd == basicSide && !p.has(binding{sessionID: e.id, partyID: party.ID, agent: true}) {
		return transcript.Party{}, wire.Errorf(wire.CodeNoSuchUser, "no such user on this connection")
	}
	if sd == flexSide && !keyMatches(party.KeyHash, ref.SecureKey) {
		if present {
			st, err := e.sess.Remove(s.now(), party.ID, transcript.ReasonBadKey)
			if err == nil {
				s.commit(ctx, e, st)
			}
		}
		return transcript.Party{}, wire.Errorf(wire.CodeBadSecureKey, "bad secure key")
	}
	if !present && !e.sess.Closed() {
		return transcript.Party{}, wire.Errorf(wire.CodeLoggedOut, "user was logged out")
	}
	return party, nil
}

// apply commits a step and answers with the events from position when the
// requester asked for them (position > 0).
func (s *Server) apply(ctx context.Context, e *entry, who transcript.Party, st chat.Step, err error, position int) (status, error) {
	if err != nil {
		s.countRefusal(err)
		return status{}, wireError(err)
	}
	if err := s.commit(ctx, e, st); err != nil {
		return status{}, err
	}
	if who.Type == transcript.Client {
		s.kpi.countMessages(st.Events)
	}
	if position > 0 {
		return s.refresh(e, who, position), nil
	}
	return e.quiet(who.ID, s.status(e, who.ID, nil)), nil
}

// refresh answers party who with the events from position from. A
// position past the transcript's end gives nothing and says nothing of
// what the party has: its reply is quiet.
func (s *Server) refresh(e *entry, who transcript.Party, from int) status {
	if from > e.sess.NextPosition() {
		return e.quiet(who.ID, s.status(e, who.ID, nil))
	}
	return e.gave(who.ID, s.status(e, who.ID, e.sess.Visible(from, who.Type)))
}

// releaseOp removes the requester, or with partyId another party, and
// applies the after-action. A client's logout closes the session when no
// agent remains, unless it asks otherwise.
func (s *Server) releaseOp(req *releaseRequest, sd side) partyOp {
	return func(ctx context.Context, e *entry, who transcript.Party) (status, error) {
		action, err := chat.ParseAfterAction(req.AfterAction)
		if err != nil {
			return status{}, wireError(err)
		}
		st, err := e.sess.Leave(s.now(), cmp.Or(req.PartyID, who.ID), who.ID, action, req.Text)
		if err == nil && sd == basicSide && req.PartyID == "" {
			s.unbindParty(e, who.ID)
		}
		return s.apply(ctx, e, who, st, err, 0)
	}
}

// login creates a session with its client party (RequestLogin).
func (s *Server) login(p *peer, m wire.Message) {
	var req loginRequest
	if err := m.Bind(&req); err != nil {
		s.reject(p, m, err)
		return
	}
	nick := cmp.Or(req.Nickname, strings.TrimSpace(req.FirstName+" "+req.LastName))
	if nick == "" {
		s.reject(p, m, wire.Errorf(wire.CodeBadRequest, "nickname, or firstName and lastName, required"))
		return
	}
	if st := s.Status(); !st.Accepting {
		s.reject(p, m, wire.Errorf(wire.CodeUnavailable, "the chat server takes no new chats (disabled, or at limit-for-sessions %d or limit-for-flex-users %d)",
			st.LimitForSessions, st.LimitForFlexUsers))
		return
	}
	e := &entry{id: newSessionID(s.now()), push: make(map[string]*peer)}
	for !s.sessions.add(e) {
		e.id = newSessionID(s.now()) // a clash within one millisecond: draw again
	}
	if !s.exec(e, func(ctx context.Context) { s.create(ctx, p, m, e, req, nick) }) {
		s.sessions.remove(e)
		s.reject(p, m, wire.Errorf(wire.CodeShuttingDown, "the chat server is shutting down"))
	}
}

func (s *Server) create(ctx context.Context, p *peer, m wire.Message, e *entry, req loginRequest, nick string) {
	ud := sessionUserData(req, nick)
	now := s.now()
	lo := s.options()
	e.sess = chat.New(e.id, now, chat.Options{Async: ud["GCTI_Chat_AsyncMode"] == "true", SaveNotices: lo.saveNotices, UserData: ud, Rules: lo.rules})
	e.epoch = 1
	if err := s.createStored(ctx, e, ud); err != nil {
		s.drop(e)
		s.kpi.saveFailed.Add(1)
		s.log.Error("session not created: store failed", "err", err)
		s.reject(p, m, wire.Errorf(wire.CodeStoreFailed, "the session could not be saved"))
		return
	}
	key := newSecureKey()
	client := transcript.Party{ID: newPartyID(), Type: transcript.Client, Nickname: nick, Protocol: "FLEX", TimeZoneOffset: req.TimeZoneOffset, KeyHash: hashKey(key)}
	client, st, err := e.sess.Join(now, client, req.Text)
	if err == nil {
		err = s.commit(ctx, e, st)
	}
	if err != nil {
		s.drop(e)
		s.reject(p, m, err)
		return
	}
	s.kpi.created.Add(1)
	s.kpi.opened(e)
	s.kpi.countMessages(st.Events)
	s.ixn.submit(e, req.Queue) // durable now; the customer is answered after
	reply := e.gave(client.ID, s.status(e, client.ID, e.sess.Visible(1, transcript.Client)))
	reply.SecureKey = key
	p.conn.Reply(m, wire.EventStatus, reply)
}

func (s *Server) createStored(ctx context.Context, e *entry, ud map[string]string) error {
	if s.cfg.Options.Settings.TranscriptAutoSave == 0 {
		return nil
	}
	return s.retry(ctx, func(ctx context.Context) error {
		return s.cfg.Transcripts.Create(ctx, transcript.Session{
			ID: e.id, Owner: s.cfg.Name, Incarnation: s.incarnation, Epoch: e.epoch, Async: e.sess.Async(),
			CreatedAt: e.sess.CreatedAt(), UserData: ud,
		})
	})
}

// sessionUserData is the request's user data with the contact fields under
// the keys GMS uses.
func sessionUserData(req loginRequest, nick string) map[string]string {
	ud := make(map[string]string, len(req.UserData)+5)
	for k, v := range req.UserData {
		ud[k] = v
	}
	for k, v := range map[string]string{"FirstName": req.FirstName, "LastName": req.LastName, "EmailAddress": req.EmailAddress, "Subject": req.Subject, "Nickname": nick} {
		if v != "" {
			ud[k] = v
		}
	}
	return ud
}

// join adds an agent, supervisor or bot to a session (RequestJoin); the
// party is bound to this connection and receives the session's events.
func (s *Server) join(p *peer, m wire.Message) {
	var req joinRequest
	if err := m.Bind(&req); err != nil {
		s.reject(p, m, err)
		return
	}
	req.UserType = cmp.Or(req.UserType, transcript.Agent)
	if req.UserType == transcript.Client {
		s.reject(p, m, wire.Errorf(wire.CodeNotAllowed, "a client joins through the customer side"))
		return
	}
	if err := s.admitJoin(p, req); err != nil {
		reason := auth.ReasonGrant
		if wire.AsError(err).Code == wire.CodeRoleRefused {
			reason = auth.ReasonRole
		}
		s.cfg.Trust.Refuse(p.id.Name, reason)
		s.reject(p, m, err)
		return
	}
	s.onSession(p, m, req.SessionID, func(ctx context.Context, e *entry) (status, error) {
		return s.joinOp(ctx, p, e, req)
	})
}

func (s *Server) joinOp(ctx context.Context, p *peer, e *entry, req joinRequest) (status, error) {
	if e.gone || e.sess == nil {
		return status{}, s.notServed(e.id)
	}
	if req.UserID != "" {
		return s.rejoin(p, e, req)
	}
	protocol := "BASIC"
	if req.UserType == transcript.External {
		protocol = "ESP"
	}
	key := newSecureKey()
	party := transcript.Party{ID: newPartyID(), Type: req.UserType, Nickname: cmp.Or(req.Nickname, string(req.UserType)), PersonID: req.PersonID,
		Protocol: protocol, Visibility: req.Visibility, UserData: req.UserData, KeyHash: hashKey(key)}
	party, st, err := e.sess.Join(s.now(), party, req.Text)
	if err != nil {
		return status{}, wireError(err)
	}
	p.bind(binding{sessionID: e.id, partyID: party.ID, agent: true})
	e.push[party.ID] = p
	if err := s.commit(ctx, e, st); err != nil {
		return status{}, err
	}
	reply := s.status(e, party.ID, e.sess.Visible(1, party.Type))
	reply.SecureKey = key
	return reply, nil
}

// rejoin binds a restored agent-side party to this connection, when the
// request proves it with the party's own key: only the agent that joined
// takes its party back.
func (s *Server) rejoin(p *peer, e *entry, req joinRequest) (status, error) {
	if party, _, err := e.sess.Party(req.UserID); err == nil && !keyMatches(party.KeyHash, req.SecureKey) {
		return status{}, wire.Errorf(wire.CodeBadSecureKey, "a party is rejoined with its own secure key")
	}
	party, err := e.sess.Rejoin(req.UserID)
	if err != nil {
		return status{}, wireError(err)
	}
	p.bind(binding{sessionID: e.id, partyID: party.ID, agent: true})
	e.push[party.ID] = p
	return s.status(e, party.ID, e.sess.Visible(req.TranscriptPosition, party.Type)), nil
}

// subscribe makes this connection receive the client party's events
// (RequestSubscribe), starting with those from transcriptPosition.
func (s *Server) subscribe(p *peer, m wire.Message) {
	var req subscribeRequest
	s.run(p, m, flexSide, &req, &req.partyRef, func(_ context.Context, e *entry, who transcript.Party) (status, error) {
		if req.Push != nil && !s.options().Settings.FlexPushOnJoin {
			// The web API then creates the chat without push (docs/api.md).
			return status{}, wire.Errorf(wire.CodeNotAllowed,
				"push subscriptions at chat creation are off on this chat server (flex-push-on-join)")
		}
		p.bind(binding{sessionID: e.id, partyID: who.ID})
		e.push[who.ID] = p
		e.sess.SetPush(s.now(), who.ID, true)
		return s.subscribed(e, who.ID, req), nil
	})
}

// unsubscribe stops the pushes of a client party (RequestUnsubscribe).
func (s *Server) unsubscribe(p *peer, m wire.Message) {
	var req partyRef
	s.run(p, m, flexSide, &req, &req, func(_ context.Context, e *entry, who transcript.Party) (status, error) {
		s.unbindParty(e, who.ID)
		if e.mobile[who.ID] != nil {
			s.orphan(e, who.ID) // a permanent push subscription carries on
			return s.status(e, who.ID, nil), nil
		}
		e.sess.SetPush(s.now(), who.ID, false)
		return s.status(e, who.ID, nil), nil
	})
}

// unbindParty stops pushing a party's events to its connection.
func (s *Server) unbindParty(e *entry, partyID string) {
	if p := e.push[partyID]; p != nil {
		p.unbind(binding{sessionID: e.id, partyID: partyID})
		p.unbind(binding{sessionID: e.id, partyID: partyID, agent: true})
		delete(e.push, partyID)
	}
}

// unbind runs when the connection of a binding dropped: pushes stop, and an
// agent-side party is removed at once (reason 3).
func (s *Server) unbind(ctx context.Context, e *entry, p *peer, b binding) {
	if e.gone || e.sess == nil {
		return
	}
	if !b.agent {
		// The web API that pushed this client's events went away: back to
		// flex-disconnect-timeout until a new subscription.
		if e.push[b.partyID] == p {
			delete(e.push, b.partyID)
			if e.mobile[b.partyID] != nil {
				s.orphan(e, b.partyID) // stays on flex-push-timeout
				return
			}
			e.sess.SetPush(s.now(), b.partyID, false)
		}
		return
	}
	delete(e.push, b.partyID)
	if st, err := e.sess.Remove(s.now(), b.partyID, transcript.ReasonDisconnect); err == nil {
		s.commit(ctx, e, st)
	}
}

package chatserver

import (
	"context"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// Restorations not started by the customer (session-restore-extend-by): an
// agent whose chat server died asks a live one for the chat, or a workflow
// asks through the interaction server, and the chat is restored here even
// while the customer is silent.

// extendedTo reports whether session-restore-extend-by lets who ("agent" or
// "esp") start a restoration here, with restoration on.
func (s *Server) extendedTo(who string) bool {
	st := s.cfg.Options.Settings
	if st.SessionRestorationMode != "simple" || st.TranscriptAutoSave == 0 {
		return false
	}
	return st.SessionRestoreExtendBy == who || st.SessionRestoreExtendBy == "both"
}

// restored is what a restoration for an agent or a workflow does once it
// is settled: e holds the live session here, or e.sess is nil and owner is
// the chat server it lives on (deferred). It runs on the session's drainer.
type restored func(ctx context.Context, e *entry, owner string)

// restoreFor restores session id here for a requester other than its
// customer, unless it lives on a live owner, and then runs done; a session
// held here already is done at once. A server that takes no new chats
// (disabled, or at limit-for-sessions) restores none: the requester asks
// another (106). A refusal answers m.
func (s *Server) restoreFor(p *peer, m wire.Message, id string, ask restoreAsk, done restored) {
	for {
		if e := s.sessions.get(id); e != nil {
			ok := s.exec(e, func(ctx context.Context) {
				if e.gone {
					s.restoreFor(p, m, id, ask, done)
					return
				}
				done(ctx, e, "")
			})
			if !ok {
				s.reject(p, m, wire.Errorf(wire.CodeShuttingDown, "the chat server is shutting down"))
			}
			return
		}
		if st := s.Status(); !st.Accepting {
			s.reject(p, m, wire.Errorf(wire.CodeUnavailable, "the chat server takes no new chats (disabled or at limit-for-sessions %d)", st.LimitForSessions))
			return
		}
		e := &entry{id: id, push: make(map[string]*peer)}
		if !s.sessions.add(e) {
			continue // added meanwhile by another request: queue behind it
		}
		if !s.exec(e, func(ctx context.Context) { s.restoreForOp(ctx, p, m, e, ask, done) }) {
			s.sessions.remove(e)
			s.reject(p, m, wire.Errorf(wire.CodeShuttingDown, "the chat server is shutting down"))
		}
		return
	}
}

func (s *Server) restoreForOp(ctx context.Context, p *peer, m wire.Message, e *entry, ask restoreAsk, done restored) {
	owner, err := s.takeOver(ctx, e, ask, "")
	if err != nil || e.sess == nil {
		s.drop(e)
	}
	if err != nil {
		s.log.Info("restore refused", "session", e.id, "requester", p.id.Name, "err", err)
		s.reject(p, m, err)
		return
	}
	done(ctx, e, owner)
}

// agentRestore (RequestRestore on the agent side, session-restore-extend-by
// = agent or both) restores the chat of the agent party userId, proven by
// its own secure key, and rejoins the party on this connection: the reply is
// a rejoin's, with the events from transcriptPosition. When the chat lives on
// a live chat server, the reply's alias names it and the agent rejoins there.
func (s *Server) agentRestore(p *peer, m wire.Message) {
	var req restoreRequest
	if err := m.Bind(&req); err != nil {
		s.reject(p, m, err)
		return
	}
	switch {
	case !p.id.Has(auth.RoleAgent) && s.cfg.Trust != nil:
		s.reject(p, m, wire.Errorf(wire.CodeNotAllowed, "only an agent desktop restores a chat on the agent side"))
		return
	case !s.extendedTo("agent"):
		s.reject(p, m, wire.Errorf(wire.CodeNotAllowed, "agents do not start restorations on this chat server (session-restore-extend-by)"))
		return
	}
	ask := restoreAsk{deferToOwner: true, prove: func(snap transcript.Snapshot) error { return agentIn(snap, req.partyRef) }}
	s.restoreFor(p, m, req.SessionID, ask, func(_ context.Context, e *entry, owner string) {
		if e.sess == nil {
			p.conn.Reply(m, wire.EventStatus, moved(owner, e.id, req.UserID))
			return
		}
		st, err := s.rejoin(p, e, joinRequest{SessionID: e.id, UserID: req.UserID, SecureKey: req.SecureKey, TranscriptPosition: req.TranscriptPosition})
		if err != nil {
			s.reject(p, m, err)
			return
		}
		s.log.Info("chat restored for its agent", "session", e.id, "party", req.UserID)
		p.conn.Reply(m, wire.EventStatus, st)
	})
}

// agentIn checks that ref names an agent-side party of the transcript (not
// a client, not an ESP party) and carries its secure key.
func agentIn(snap transcript.Snapshot, ref partyRef) error {
	for _, e := range snap.Events {
		if e.Type != transcript.ParticipantJoined || e.Party == nil || e.Party.ID != ref.UserID {
			continue
		}
		if e.Party.Type == transcript.Client || e.Party.Protocol == "ESP" || !keyMatches(e.Party.KeyHash, ref.SecureKey) {
			break
		}
		return nil
	}
	return wire.Errorf(wire.CodeBadSecureKey, "a party is rejoined with its own secure key")
}

// espRestore (Restore, session-restore-extend-by = esp or both) restores
// the chat here for a workflow. Restored is "true" when it was restored here
// or already lived here, "false" when it lives on the live chat server the
// answer's ChatServerApplication names.
func (s *Server) espRestore(p *peer, m wire.Message, req ixn.ServiceRequest) {
	if !s.extendedTo("esp") {
		s.reject(p, m, wire.Errorf(wire.CodeNotAllowed, "workflows do not start restorations on this chat server (session-restore-extend-by)"))
		return
	}
	s.restoreFor(p, m, req.InteractionID, restoreAsk{deferToOwner: true}, func(_ context.Context, e *entry, owner string) {
		if e.sess == nil {
			out := s.espAnswer(nil, req, map[string]string{"Restored": "false"}, nil)
			out.Parameters[PropChatServerApplication] = owner
			p.conn.Reply(m, wire.Event3rdServerResponse, out)
			return
		}
		s.log.Info("chat restored for a workflow", "session", e.id)
		p.conn.Reply(m, wire.Event3rdServerResponse, s.espAnswer(e, req, map[string]string{"Restored": "true"}, nil))
	})
}

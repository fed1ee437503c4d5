package webapi

import (
	"context"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// refresh answers a refresh from pos. A REST client's refreshes are
// answered from its push buffer when the buffer holds every event from pos
// and the request carries the key the subscription was made with; any
// other refresh goes to the chat server, as a RequestSubscribe that both
// answers it and (re)starts the buffer. A key that does not match goes to
// the chat server as a plain refresh, which judges it.
func (s *Server) refresh(ctx context.Context, q *request, pos int) (*envelope, error) {
	// A refresh is safe to repeat where the chat is now when its chat
	// server went away or gave the chat up mid-request.
	var env *envelope
	err := s.follow(ctx, q, func() (err error) {
		env, err = s.refreshOnce(ctx, q, pos)
		return err
	}, func(error) bool { return true })
	return env, err
}

func (s *Server) refreshOnce(ctx context.Context, q *request, pos int) (*envelope, error) {
	cs, conn, err := s.locate(ctx, q)
	if err != nil {
		return nil, err
	}
	k := partyKey{q.ref.SessionID, q.ref.UserID}
	sub := s.targets.get(k)
	// A permanent push subscription is never replaced by a buffer: its
	// refreshes go to the chat server.
	if sub != nil && (sub.server == cs.name && sub.conn == conn || kept(sub.t)) {
		rt, ok := sub.t.(*restTarget)
		if !ok || !rt.keyMatches(q.ref.SecureKey) {
			s.metrics.refresh.WithLabelValues("chat-server").Inc()
			return s.direct(ctx, q, wire.RequestRefresh, positionBody{partyRef: q.ref, TranscriptPosition: pos})
		}
		if st, ok := rt.answer(pos, time.Now()); ok {
			return s.cached(q, st), nil
		}
		return s.subscribe(ctx, q, sub, rt, pos)
	}
	rt := newRESTTarget(q.ref.SecureKey, s.cfg.Options.Settings.RestSubscriptionIdle, time.Now())
	sub = &subscription{server: cs.name, conn: conn, ref: q.ref, t: rt}
	s.targets.put(k, sub)
	return s.subscribe(ctx, q, sub, rt, pos)
}

// subscribe (re)subscribes the party on its chat server from pos: the
// reply answers the refresh and restarts the buffer. A failed subscription
// is dropped.
func (s *Server) subscribe(ctx context.Context, q *request, sub *subscription, rt *restTarget, pos int) (*envelope, error) {
	rt.subMu.Lock()
	defer rt.subMu.Unlock()
	if st, ok := rt.answer(pos, time.Now()); ok { // a concurrent refresh filled the buffer
		return s.cached(q, st), nil
	}
	var st status
	if err := ownerRequest(ctx, sub.conn, wire.RequestSubscribe, positionBody{partyRef: q.ref, TranscriptPosition: pos}, &st); err != nil {
		s.targets.remove(partyKey{q.ref.SessionID, q.ref.UserID}, sub)
		return nil, fmt.Errorf("webapi: subscribe on %s: %w", sub.server, err)
	}
	rt.reset(pos, st, time.Now())
	s.metrics.refresh.WithLabelValues("chat-server").Inc()
	env := okEnvelope(st)
	return &env, nil
}

// cached turns a buffer's answer into the refresh's envelope.
func (s *Server) cached(q *request, st status) *envelope {
	s.metrics.refresh.WithLabelValues("cache").Inc()
	st.SessionID, st.UserID = q.ref.SessionID, q.ref.UserID
	env := okEnvelope(st)
	return &env
}

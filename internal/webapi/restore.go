package webapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// restoreBody is RequestRestore: take over a chat whose owner From is gone.
type restoreBody struct {
	partyRef
	From               string `json:"from"`
	TranscriptPosition int    `json:"transcriptPosition"`
}

// noEvents is a transcript position past any chat: the reply carries no events.
const noEvents = math.MaxInt32

// errOwnerTimeout means the chat's server did not answer within half of the
// request's time: it is hung or cut off (a stopped process, a network
// partition), so the rest of the time goes to restoring the chat elsewhere.
var errOwnerTimeout = errors.New("webapi: the chat server did not answer in time")

// ownerRequest sends a request to a chat's server, allowing it half of the
// time left, so that a hung server can still be replaced within the request.
func ownerRequest(ctx context.Context, conn *wire.Conn, name string, body, reply any) error {
	wait := time.Until(deadlineOf(ctx)) / 2
	octx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	_, err := conn.Request(octx, name, body, reply)
	if err != nil && octx.Err() != nil && ctx.Err() == nil {
		return fmt.Errorf("%w: %w", errOwnerTimeout, err)
	}
	return err
}

func deadlineOf(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(time.Minute)
}

// lost reports whether err says the chat is not (or no longer) served where
// the request went: its chat server is unreachable, went away, or answers
// that another one owns the chat, that it does not have it, or that it is a
// backup.
func lost(err error) bool {
	return errors.Is(err, errUnreachable) || errors.Is(err, wire.ErrNotConnected) || errors.Is(err, wire.ErrClosed) ||
		errors.Is(err, errOwnerTimeout) || denied(err)
}

// unapplied reports whether a request that failed with err certainly had no
// effect, so that repeating it elsewhere cannot duplicate it.
func unapplied(err error) bool {
	return errors.Is(err, errUnreachable) || errors.Is(err, wire.ErrNotConnected) || denied(err)
}

// maxHops bounds how often one request follows its chat to another chat
// server: a restore that defers to an owner that then denies having the
// chat (a restart, a race) is asked again, from that owner.
const maxHops = 3

// errNotSettled is the answer of a request whose chat could not be found
// within maxHops: the store holds it, but no chat server served it in time.
// The client retries (statusCode 1); it is never told that the chat ended.
func errNotSettled() error {
	return wire.Errorf(wire.CodeUnavailable, "the chat is moving to another chat server; retry")
}

// follow runs try on the chat's server; while it fails because that server
// does not have the chat (lost), the chat is restored on, or found at,
// another chat server, from the one that failed, and try runs there, up to
// maxHops times. A denial by the server a restore named is never final:
// only a restore, which reads the store, ends the chat. repeat reports
// whether a failed try may run again (it certainly had no effect, or is
// idempotent); when it may not, the chat is still located and the error
// returned, so that the client's retry goes to the new server.
func (s *Server) follow(ctx context.Context, q *request, try func() error, repeat func(error) bool) error {
	err := try()
	for hop := 0; err != nil && lost(err); hop++ {
		if hop == maxHops {
			s.log.Info("chat not settled on a chat server", "chat", q.ref.SessionID, "alias", q.alias, "err", err)
			return errNotSettled()
		}
		again := repeat(err)
		if _, _, rerr := s.restoreChat(ctx, q, err); rerr != nil {
			return rerr
		}
		if !again {
			return err
		}
		err = try()
	}
	return err
}

// call sends one request of q's chat to the chat server that serves it.
// When that server is gone, or says the chat moved, the chat is restored
// on (or found at) another chat server and q.alias follows it; the request
// is then repeated there if it certainly had no effect the first time, or
// if it is idempotent (a refresh); otherwise its error is returned and the
// client's retry goes to the new server.
func (s *Server) call(ctx context.Context, q *request, name string, body, reply any, idempotent bool) error {
	first := true
	try := func() error {
		_, conn, err := s.pool.owner(q.alias)
		if err != nil {
			return err
		}
		if first {
			first = false
			return ownerRequest(ctx, conn, name, body, reply)
		}
		_, err = conn.Request(ctx, name, body, reply)
		return err
	}
	return s.follow(ctx, q, try, func(err error) bool { return idempotent || unapplied(err) })
}

// locate returns the chat server of q's chat, restoring the chat elsewhere
// when its owner is unreachable.
func (s *Server) locate(ctx context.Context, q *request) (*chatServer, *wire.Conn, error) {
	cs, conn, err := s.pool.owner(q.alias)
	if errors.Is(err, errUnreachable) {
		return s.restoreChat(ctx, q, err)
	}
	return cs, conn, err
}

// restoreChat asks the chat servers that take chats, least loaded first
// (counting the chats placed since their last status read), to restore
// q's chat, whose owner q.alias is lost. A chat server either
// restores it or names the server that already has it (a restore by
// another web API, or the winner of a race); q.alias becomes that server.
// The lost owner itself is asked last when it answered that it does not
// have the chat (a restarted process): it reads the store like any other.
// An unknown or ended chat, or a wrong secure key, as a restore reads them
// from the store, ends the search. When no chat server answers, the error
// is cause, why the owner was given up, except that an owner's denial is
// never final: the client is told to retry.
func (s *Server) restoreChat(ctx context.Context, q *request, cause error) (*chatServer, *wire.Conn, error) {
	from := q.alias
	last := cause
	cands := s.pool.candidates()
	if denied(cause) {
		// The owner answers but does not have the chat: it may restore
		// it from the store, after every other chat server.
		if i := slices.IndexFunc(cands, func(cs *chatServer) bool { return cs.name == from }); i >= 0 {
			cands = append(slices.Delete(slices.Clone(cands), i, i+1), cands[i])
		}
	}
	for i, hops := 0, 0; i < len(cands); i++ {
		cs := cands[i]
		conn := cs.client.Conn()
		if conn == nil || cs.name == from && (i < len(cands)-1 || !denied(cause)) {
			continue
		}
		cs.reserve() // counted at once, so that concurrent restores spread
		var st status
		_, err := conn.Request(ctx, wire.RequestRestore, restoreBody{partyRef: q.ref, From: from, TranscriptPosition: noEvents}, &st)
		if err != nil || st.Alias != cs.name {
			cs.unreserve() // the chat is not placed there
		}
		if err != nil {
			if final(err) {
				s.log.Info("chat not restored: the store says it ended", "chat", q.ref.SessionID, "on", cs.name, "err", err)
				return nil, nil, err
			}
			last = err
			continue
		}
		owner, oconn, err := s.pool.owner(st.Alias)
		if errors.Is(err, errUnreachable) && st.Alias != cs.name && hops < maxHops {
			// The chat server deferred to an owner this web API cannot
			// reach: ask again, from that owner.
			s.log.Debug("deferred to an unreachable chat server", "chat", q.ref.SessionID, "owner", st.Alias, "by", cs.name)
			from, last, hops = st.Alias, err, hops+1
			i--
			continue
		}
		if err != nil {
			last = err
			continue
		}
		if owner == cs {
			s.log.Info("chat restored", "chat", q.ref.SessionID, "from", from, "to", owner.name)
		} else {
			s.log.Info("chat restore deferred to its owner", "chat", q.ref.SessionID, "from", from, "asked", cs.name, "owner", owner.name)
		}
		q.alias, q.moved = owner.name, q.moved || owner.name != q.alias
		return owner, oconn, nil
	}
	if denied(last) {
		return nil, nil, errNotSettled()
	}
	return nil, nil, last
}

// denied reports whether err is a chat server's answer that it does not
// have the chat (8200), that another one took it (8211), or that it is the
// backup of a warm-standby pair (112): a fact about that server, not about
// the chat, which only a restore reads from the store. None of them had an
// effect.
func denied(err error) bool {
	var we *wire.Error
	return errors.As(err, &we) && (we.Code == wire.CodeStaleOwner || we.Code == wire.CodeNoSuchSession || we.Code == wire.CodeBackup)
}

// final reports whether a restore refusal holds on every chat server.
func final(err error) bool {
	var we *wire.Error
	if !errors.As(err, &we) {
		return false
	}
	switch we.Code {
	case wire.CodeNoSuchSession, wire.CodeBadSecureKey, wire.CodeSessionClosed:
		return true
	}
	return false
}

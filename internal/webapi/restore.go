package webapi

import (
	"context"
	"errors"
	"fmt"
	"math"
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
// that another one owns the chat, or that it does not have it.
func lost(err error) bool {
	if errors.Is(err, errUnreachable) || errors.Is(err, wire.ErrNotConnected) || errors.Is(err, wire.ErrClosed) || errors.Is(err, errOwnerTimeout) {
		return true
	}
	var we *wire.Error
	return errors.As(err, &we) && (we.Code == wire.CodeStaleOwner || we.Code == wire.CodeNoSuchSession)
}

// unapplied reports whether a request that failed with err certainly had no
// effect, so that repeating it elsewhere cannot duplicate it.
func unapplied(err error) bool {
	if errors.Is(err, errUnreachable) || errors.Is(err, wire.ErrNotConnected) {
		return true
	}
	var we *wire.Error
	return errors.As(err, &we) && (we.Code == wire.CodeStaleOwner || we.Code == wire.CodeNoSuchSession)
}

// call sends one request of q's chat to the chat server that serves it.
// When that server is gone, or says the chat moved, the chat is restored
// on (or found at) another chat server and q.alias follows it; the request
// is then repeated there if it certainly had no effect the first time, or
// if it is idempotent (a refresh); otherwise its error is returned and the
// client's retry goes to the new server.
func (s *Server) call(ctx context.Context, q *request, name string, body, reply any, idempotent bool) error {
	_, conn, err := s.pool.owner(q.alias)
	if err == nil {
		err = ownerRequest(ctx, conn, name, body, reply)
	}
	if err == nil || !lost(err) {
		return err
	}
	retry := idempotent || unapplied(err)
	if _, conn, err2 := s.restoreChat(ctx, q, err); err2 != nil {
		return err2
	} else if retry {
		_, err = conn.Request(ctx, name, body, reply)
	}
	return err
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
// q's chat, whose owner q.alias is lost. A chat server either restores it
// or names the server that already has it (a restore by another web API,
// or the winner of a race); q.alias becomes that server. An unknown or
// ended chat, or a wrong secure key, ends the search. When no chat server
// answers, the error is cause, why the owner was given up.
func (s *Server) restoreChat(ctx context.Context, q *request, cause error) (*chatServer, *wire.Conn, error) {
	from := q.alias
	last := cause
	for cs, conn := range s.pool.placements(from) {
		var st status
		_, err := conn.Request(ctx, wire.RequestRestore, restoreBody{partyRef: q.ref, From: from, TranscriptPosition: noEvents}, &st)
		if err != nil || st.Alias != cs.name {
			cs.unreserve() // the chat is not placed there
		}
		if err != nil {
			if final(err) {
				return nil, nil, err
			}
			last = err
			continue
		}
		owner, oconn, err := s.pool.owner(st.Alias)
		if err != nil {
			last = err
			continue
		}
		if owner == cs {
			s.log.Info("chat restored", "chat", q.ref.SessionID, "from", from, "to", owner.name)
		} else {
			s.log.Info("chat restore deferred to its owner", "chat", q.ref.SessionID, "from", from, "asked", cs.name, "owner", owner.name)
		}
		q.alias, q.moved = owner.name, q.moved || owner.name != from
		return owner, oconn, nil
	}
	return nil, nil, last
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

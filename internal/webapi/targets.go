package webapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"slices"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// maxBuffered caps the events a REST target keeps; past it the buffer is
// dropped and the next refresh goes to the chat server.
const maxBuffered = 1024

// target is where the pushes of one client party go: a REST buffer, or a
// CometD client. Implementations are safe for concurrent use.
type target interface {
	// push takes one EventSessionInfo of the party. It runs on the chat
	// server connection's read goroutine and must not block.
	push(st status)
	// alive reports whether the party's client is still there. The sweeper
	// unsubscribes and drops a target that is not; the chat server's
	// RequestCheckParty is answered with it.
	alive(now time.Time) bool
}

// holdQueue keeps a target's pushes while one of its subscriptions is in
// flight, so that none overtakes the subscription's reply. The target's
// mutex guards it.
type holdQueue struct {
	holding bool
	held    []status // bounded by what one chat pushes within request-timeout
}

// hold starts keeping pushes.
func (q *holdQueue) hold() { q.holding, q.held = true, nil }

// keep takes st while holding and reports whether it did.
func (q *holdQueue) keep(st status) bool {
	if q.holding {
		q.held = append(q.held, st)
	}
	return q.holding
}

// take stops holding and returns the pushes kept meanwhile, in order.
func (q *holdQueue) take() []status {
	held := q.held
	q.holding, q.held = false, nil
	return held
}

// partyKey names a client party across chat servers.
type partyKey struct{ sessionID, userID string }

// subscription is one entry of the push table: the target of a party and
// the chat server connection its RequestSubscribe was made on.
type subscription struct {
	server string
	conn   *wire.Conn
	ref    partyRef // with the secure key, for RequestUnsubscribe
	t      target
}

// targets is the push table, one subscription per client party.
type targets struct {
	mu sync.Mutex // guards m
	m  map[partyKey]*subscription
	// adopt takes over a permanent push subscription a chat server hands
	// over (a push that carries the device); set once, before use.
	adopt func(*wire.Conn, status) *subscription
}

func newTargets() *targets { return &targets{m: make(map[partyKey]*subscription)} }

func (ts *targets) get(k partyKey) *subscription {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.m[k]
}

// put sets the party's subscription, replacing any other.
func (ts *targets) put(k partyKey, sub *subscription) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.m[k] = sub
}

// remove drops the party's subscription if it is still sub.
func (ts *targets) remove(k partyKey, sub *subscription) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.m[k] == sub {
		delete(ts.m, k)
	}
}

// push hands a push that arrived on c to the party's target, if its
// subscription was made on c: a push of an older connection is stale. A
// push that hands over a permanent push subscription makes one.
func (ts *targets) push(c *wire.Conn, st status) {
	sub := ts.get(partyKey{st.SessionID, st.UserID})
	if (sub == nil || sub.conn != c) && st.Push != nil && ts.adopt != nil {
		sub = ts.adopt(c, st)
	}
	if sub != nil && sub.conn == c {
		sub.t.push(st)
	}
}

// alive reports whether the party has a target that is alive.
func (ts *targets) alive(k partyKey, now time.Time) bool {
	sub := ts.get(k)
	return sub != nil && sub.t.alive(now)
}

// expired removes and returns the subscriptions whose target is not alive
// and not kept.
func (ts *targets) expired(now time.Time) []*subscription {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var out []*subscription
	for k, sub := range ts.m {
		if !kept(sub.t) && !sub.t.alive(now) {
			delete(ts.m, k)
			out = append(out, sub)
		}
	}
	return out
}

// sweep drops expired subscriptions with RequestUnsubscribe, a few times
// per rest-subscription-idle, until ctx is done.
func (s *Server) sweep(ctx context.Context) {
	t := time.NewTicker(s.cfg.Options.Settings.RestSubscriptionIdle / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for _, sub := range s.targets.expired(now) {
				s.unsubscribe(ctx, sub)
			}
		}
	}
}

func (s *Server) unsubscribe(ctx context.Context, sub *subscription) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Options.Settings.RequestTimeout)
	defer cancel()
	if _, err := sub.conn.Request(ctx, wire.RequestUnsubscribe, sub.ref, nil); err != nil {
		s.log.Debug("unsubscribe failed", "chat_server", sub.server, "session", sub.ref.SessionID, "err", err)
	}
}

// wireHandler serves what chat servers send the web API unasked: pushes,
// and liveness checks of pushed clients (RequestCheckParty).
func wireHandler(ts *targets) wire.HandlerFunc {
	return func(_ context.Context, c *wire.Conn, m wire.Message) {
		switch m.Name {
		case wire.EventSessionInfo:
			if st, err := parseStatus(m.Body); err == nil {
				ts.push(c, st)
			}
		case wire.RequestCheckParty:
			var ref partyRef
			if err := m.Bind(&ref); err != nil {
				c.ReplyError(m, err)
				return
			}
			alive := ts.alive(partyKey{ref.SessionID, ref.UserID}, time.Now())
			c.Reply(m, wire.EventAck, map[string]bool{"connected": alive})
		default:
			if m.Ref != 0 {
				c.ReplyError(m, wire.Errorf(wire.CodeNotAllowed, "%s is not served by the web API", m.Name))
			}
		}
	}
}

// restTarget buffers the pushes of a REST client, so that its refreshes are
// answered without a chat server round trip. Once a subscription reply is
// applied, the buffer holds every event the client may see from base up to
// next: the chat server pushes each later one on the same connection.
type restTarget struct {
	keyHash [32]byte
	idle    time.Duration
	subMu   sync.Mutex // serialises (re)subscriptions, so that their replies apply in order

	mu     sync.Mutex // guards the fields below
	polled time.Time
	valid  bool // a subscription reply was applied
	base   int
	next   int
	given  int // the nextPosition of the last refresh answered: the client has the events before it
	// preview is the hash of the last typing preview a refresh carried.
	preview [32]byte
	ended   bool
	alias   string
	events  []transcript.APIMessage // from base, by index
}

// swapPreview records text as the party's typing preview and reports
// whether it differs from the one before.
func (t *restTarget) swapPreview(text string) bool {
	h := sha256.Sum256([]byte(text))
	t.mu.Lock()
	defer t.mu.Unlock()
	changed := h != t.preview
	t.preview = h
	return changed
}

// givenPos returns the nextPosition of the last refresh the buffer (or its
// subscription) answered, or 0 before any.
func (t *restTarget) givenPos() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.given
}

func newRESTTarget(key string, idle time.Duration, now time.Time) *restTarget {
	return &restTarget{keyHash: sha256.Sum256([]byte(key)), idle: idle, polled: now}
}

// keyMatches compares key with the one the subscription was made with, in
// constant time.
func (t *restTarget) keyMatches(key string) bool {
	h := sha256.Sum256([]byte(key))
	return subtle.ConstantTimeCompare(h[:], t.keyHash[:]) == 1
}

func (t *restTarget) push(st status) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.add(st.Messages)
	t.next = max(t.next, st.NextPosition)
	t.ended = t.ended || st.ChatEnded
	if len(t.events) > maxBuffered {
		t.valid, t.events = false, nil
	}
}

// add appends the client-visible events past the last one held.
// t.mu must be held.
func (t *restTarget) add(msgs []transcript.APIMessage) {
	for _, m := range msgs {
		if m.Visibility != transcript.VisAll && m.Visibility != "" {
			continue
		}
		if n := len(t.events); n == 0 || m.Index > t.events[n-1].Index {
			t.events = append(t.events, m)
		}
	}
}

func (t *restTarget) alive(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return now.Sub(t.polled) < t.idle
}

// reset applies the reply of a RequestSubscribe from position from: the
// reply holds the events from there, and pushes already taken that are
// newer than the reply are kept.
func (t *restTarget) reset(from int, st status, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	newer := slices.DeleteFunc(t.events, func(m transcript.APIMessage) bool { return m.Index < st.NextPosition })
	t.events = nil
	t.add(st.Messages)
	t.add(newer)
	t.base, t.next, t.given = max(from, 1), max(st.NextPosition, t.next), st.NextPosition
	t.ended = t.ended || st.ChatEnded
	t.alias, t.valid, t.polled = st.Alias, true, now
}

// answer returns the events from pos when the buffer holds them all, and
// forgets those before pos: the client has them.
func (t *restTarget) answer(pos int, now time.Time) (status, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	pos = max(pos, 1)
	if !t.valid || pos < t.base || pos > t.next {
		return status{}, false
	}
	i, _ := slices.BinarySearchFunc(t.events, pos, func(m transcript.APIMessage, p int) int { return m.Index - p })
	t.events = slices.Delete(t.events, 0, i)
	t.base, t.polled, t.given = pos, now, t.next
	return status{Alias: t.alias, ChatEnded: t.ended, NextPosition: t.next, Messages: slices.Clone(t.events)}, true
}

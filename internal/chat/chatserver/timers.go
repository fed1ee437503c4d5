package chatserver

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/wire"
)

// checkTimeout bounds the web API's answer to a liveness check.
const checkTimeout = 10 * time.Second

// rulesFrom reads a session's timeouts from the chat server's options.
func rulesFrom(o config.ChatServerOptions) (chat.Rules, error) {
	levels := map[string]chat.NoticeSet{}
	for _, name := range []string{o.InactivityControl.IncludeNotices, o.Settings.AsyncIdleNotices} {
		set, err := chat.ParseNoticeLevel(name)
		if err != nil {
			return chat.Rules{}, err
		}
		levels[name] = set
	}
	ic := o.InactivityControl
	return chat.Rules{
		FlexDisconnect: o.Settings.FlexDisconnectTimeout,
		FlexPush:       o.Settings.FlexPushTimeout,
		Idle: chat.IdleRules{
			Enabled: ic.Enabled, Notices: levels[ic.IncludeNotices],
			Alert: ic.TimeoutAlert, Alert2: ic.TimeoutAlert2, Close: ic.TimeoutClose,
			MessageAlert: ic.MessageAlert, MessageAlert2: ic.MessageAlert2, MessageClose: ic.MessageClose,
		},
		AsyncAlert:   o.Settings.AsyncIdleAlert,
		AsyncClose:   o.Settings.AsyncIdleClose,
		AsyncNotices: levels[o.Settings.AsyncIdleNotices],
		Limits:       limitsFrom(o.Limits),
	}, nil
}

// scheduler holds the next deadline of every session in one heap, so that a
// dormant session costs a heap slot, not a goroutine or a timer.
type scheduler struct {
	mu    sync.Mutex // guards items and byEntry
	items timerHeap
	index map[*entry]*timerItem
	wake  chan struct{} // poked when the earliest deadline may have changed
}

type timerItem struct {
	at  time.Time
	e   *entry
	pos int
}

func newScheduler() *scheduler {
	return &scheduler{index: make(map[*entry]*timerItem), wake: make(chan struct{}, 1)}
}

// set makes at the deadline of e; the zero time removes it.
func (t *scheduler) set(e *entry, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	it, ok := t.index[e]
	switch {
	case at.IsZero() && ok:
		heap.Remove(&t.items, it.pos)
		delete(t.index, e)
		return
	case at.IsZero():
		return
	case ok && it.at.Equal(at):
		return
	case ok:
		it.at = at
		heap.Fix(&t.items, it.pos)
	default:
		it = &timerItem{at: at, e: e}
		heap.Push(&t.items, it)
		t.index[e] = it
	}
	if t.items[0] == it {
		t.poke()
	}
}

func (t *scheduler) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Mass expiry is spread: a pass fires at most timerBatch sessions, and the
// next pass comes timerSpread later, so that thousands of chats created
// together (a flood) and timing out together become a steady trickle of
// closes, not one burst of store writes and interaction server requests.
const (
	timerBatch  = 32
	timerSpread = 50 * time.Millisecond
)

// due removes and returns the sessions whose deadline is not after now, at
// most limit of them, and the next deadline left (zero if none), which is
// not after now when more were due.
func (t *scheduler) due(now time.Time, limit int) ([]*entry, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var es []*entry
	for len(t.items) > 0 && len(es) < limit && !t.items[0].at.After(now) {
		it := heap.Pop(&t.items).(*timerItem)
		delete(t.index, it.e)
		es = append(es, it.e)
	}
	if len(t.items) == 0 {
		return es, time.Time{}
	}
	return es, t.items[0].at
}

// runTimers fires due sessions until ctx is done: one goroutine and one
// timer per chat server, re-armed to the earliest deadline.
func (s *Server) runTimers(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := s.now()
		due, next := s.timers.due(now, timerBatch)
		for _, e := range due {
			s.exec(e, func(ctx context.Context) { s.tick(ctx, e) })
		}
		wait := time.Hour
		switch {
		case next.IsZero():
		case !next.After(now): // more are due: the next batch after a pause
			wait = timerSpread
		default:
			wait = max(next.Sub(s.now()), time.Millisecond)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-s.timers.wake:
		case <-timer.C:
		}
	}
}

// tick runs a session's due timers and starts the liveness checks they ask for.
func (s *Server) tick(ctx context.Context, e *entry) {
	if e.gone || e.sess == nil || e.sess.Closed() {
		return
	}
	st, checks := e.sess.Tick(s.now())
	if err := s.commit(ctx, e, st); err != nil {
		s.log.Warn("timer step not saved", "session", e.id, "err", err)
	}
	for _, party := range checks {
		s.checkParty(e, party)
	}
}

// checkParty asks the web API that subscribed for a client whether the
// client is still connected, and feeds the answer back to the session.
// No subscription, no answer or an error count as "not connected".
func (s *Server) checkParty(e *entry, partyID string) {
	p := e.push[partyID]
	s.spawn(func() {
		alive := false
		if p != nil {
			ctx, cancel := context.WithTimeout(s.work, checkTimeout)
			var reply struct {
				Connected bool `json:"connected"`
			}
			_, err := p.conn.Request(ctx, wire.RequestCheckParty, partyRef{SessionID: e.id, UserID: partyID}, &reply)
			cancel()
			alive = err == nil && reply.Connected
		}
		s.exec(e, func(ctx context.Context) { s.confirm(ctx, e, partyID, alive) })
	})
}

func (s *Server) confirm(ctx context.Context, e *entry, partyID string, alive bool) {
	if e.gone || e.sess == nil {
		return
	}
	st, err := e.sess.Confirm(s.now(), partyID, alive)
	if err == nil {
		err = s.commit(ctx, e, st)
	}
	if err != nil {
		s.log.Warn("liveness answer not applied", "session", e.id, "party", partyID, "err", err)
	}
}

// spawn runs f on a goroutine the server waits for at shutdown; it reports
// false, without running f, once the server is stopping.
func (s *Server) spawn(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.ops.Add(1)
	go func() {
		defer s.ops.Done()
		f()
	}()
	return true
}

// timerHeap orders timer items by deadline (container/heap).
type timerHeap []*timerItem

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].pos, h[j].pos = i, j
}
func (h *timerHeap) Push(x any) {
	it := x.(*timerItem)
	it.pos = len(*h)
	*h = append(*h, it)
}
func (h *timerHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}

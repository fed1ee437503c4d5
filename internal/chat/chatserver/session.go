package chatserver

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/transcript"
)

// entry is a session as the server holds it.
//
// Lock order: Server.mu before entry.mu.
type entry struct {
	id string

	mu      sync.Mutex // guards queue and running
	queue   []func(context.Context)
	running bool

	// The fields below belong to the session's drainer: only operations
	// passed to Server.exec touch them.
	sess     *chat.Session // nil until the creating operation ran
	gone     bool          // dropped from the registry (never created, or fenced off)
	epoch    int64
	unsaved  []transcript.Event // stored events not yet durable (transcript-save-on-error=continue)
	resaving bool               // a retry of unsaved is scheduled
	tried    time.Time          // the last attempt to save unsaved
	failed   bool               // ended by a store failure: no final save
	filed    bool               // its final transcript is in the contact store
	counted  bool               // counted in sessions_current
	// flexUsers is what the session counts in Server.flexUsers.
	flexUsers int
	push      map[string]*peer // party id -> the connection its events are pushed to
	rules     *liveOptions     // the options sess last took its rules from (syncRules)

	// mobile holds the party's permanent push subscriptions, by party id
	// (push.go); the drainer owns it too.
	mobile map[string]*mobileSub

	// given holds, by party id, the nextPosition of the last reply that
	// gave the party the events up to there; the drainer owns it.
	given map[string]int
}

// gave records that reply st gave party id the events before its
// nextPosition, and returns st. Only the session's drainer calls it.
func (e *entry) gave(id string, st status) status {
	if e.given == nil {
		e.given = make(map[string]int)
	}
	e.given[id] = st.NextPosition
	return st
}

// quiet returns st, a reply that carries no events, with the nextPosition
// of the last reply that gave party id events: a reply must never lead a
// client past events it was not given (a notice's reply would otherwise
// skip an agent's message the client has not refreshed yet). A party with
// no such reply here (a chat restored on this server) keeps the
// transcript's end. Only the session's drainer calls it.
func (e *entry) quiet(id string, st status) status {
	if g, ok := e.given[id]; ok && g < st.NextPosition {
		st.NextPosition = g
	}
	return st
}

// exec queues op on the session and starts its drainer when none runs. It
// reports false, without running op, once the server is stopping.
func (s *Server) exec(e *entry, op func(context.Context)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	e.mu.Lock()
	e.queue = append(e.queue, op)
	start := !e.running
	e.running = true
	e.mu.Unlock()
	if start {
		s.ops.Add(1)
		go s.drain(e)
	}
	return true
}

// drain runs the session's queued operations in order and ends when the
// queue is empty, so that an idle session holds no goroutine.
func (s *Server) drain(e *entry) {
	defer s.ops.Done()
	for {
		e.mu.Lock()
		if len(e.queue) == 0 {
			e.running = false
			e.mu.Unlock()
			return
		}
		op := e.queue[0]
		e.queue[0] = nil
		e.queue = e.queue[1:]
		e.mu.Unlock()
		s.syncRules(e)
		op(s.work)
		s.countFlex(e)
		s.timers.set(e, e.deadline())
	}
}

// deadline is when the session's timers next need to run (zero: never).
// Only the session's drainer calls it.
func (e *entry) deadline() time.Time {
	if e.gone || e.sess == nil {
		return time.Time{}
	}
	return e.sess.Deadline()
}

// registry is the set of sessions, sharded to keep lock contention low.
type registry struct {
	seed   maphash.Seed
	shards [64]shard
}

type shard struct {
	mu sync.RWMutex // guards m
	m  map[string]*entry
}

func newRegistry() *registry {
	r := &registry{seed: maphash.MakeSeed()}
	for i := range r.shards {
		r.shards[i].m = make(map[string]*entry)
	}
	return r
}

func (r *registry) shard(id string) *shard {
	return &r.shards[maphash.String(r.seed, id)%uint64(len(r.shards))]
}

func (r *registry) get(id string) *entry {
	sh := r.shard(id)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.m[id]
}

// add registers e unless its id is taken.
func (r *registry) add(e *entry) bool {
	sh := r.shard(e.id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[e.id]; ok {
		return false
	}
	sh.m[e.id] = e
	return true
}

func (r *registry) remove(e *entry) {
	sh := r.shard(e.id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.m[e.id] == e {
		delete(sh.m, e.id)
	}
}

package chatserver

import (
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// fencedSet remembers for linger the sessions this server dropped because
// the store said another chat server owns them: a write of ours refused for
// a stale epoch, or a purge the store confirmed. A request for one of them
// is then refused with 8211, the truth the store told, rather than 8200 as
// if the chat had never been here. It is safe for concurrent use.
type fencedSet struct {
	mu    sync.Mutex           // guards until
	until map[string]time.Time // session id -> when it is forgotten
}

// add remembers id as fenced off for linger.
func (f *fencedSet) add(id string) {
	until := time.Now().Add(linger)
	f.mu.Lock()
	if f.until == nil {
		f.until = make(map[string]time.Time)
	}
	f.until[id] = until
	f.mu.Unlock()
	time.AfterFunc(linger, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.until[id] == until { // not fenced again since
			delete(f.until, id)
		}
	})
}

// has reports whether id was fenced off here within linger.
func (f *fencedSet) has(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.until[id]
	return ok
}

// forget drops id: the session is served here again.
func (f *fencedSet) forget(id string) {
	f.mu.Lock()
	delete(f.until, id)
	f.mu.Unlock()
}

// notServed is the refusal of a request for session id when this server
// does not serve it: 8211 when it was fenced off it lately, so that the
// requester learns the chat lives on elsewhere, 8200 otherwise.
func (s *Server) notServed(id string) error {
	if s.fenced.has(id) {
		return errStaleOwner()
	}
	return wire.Errorf(wire.CodeNoSuchSession, "no such session")
}

// errStaleOwner is the refusal of a request for a session another chat
// server has taken over.
func errStaleOwner() error {
	return wire.Errorf(wire.CodeStaleOwner, "the session is now served by another chat server")
}

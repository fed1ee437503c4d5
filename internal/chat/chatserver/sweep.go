package chatserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/transcript"
)

// orphan is a session the store lists under an owner that did not hold it
// when asked: one sweep notes it, the next one at the same owner and epoch
// adopts it.
type orphan struct {
	id, owner string
	epoch     int64
}

// runSweeper sweeps every [settings] orphan-sweep-interval (or
// Config.SweepInterval) until ctx is done, the interval read again after
// each sweep. Only a chat server that may restore sessions sweeps.
func (s *Server) runSweeper(ctx context.Context) {
	if s.cfg.SweepInterval < 0 || s.cfg.Options.Settings.SessionRestorationMode != "simple" || s.cfg.Options.Settings.TranscriptAutoSave == 0 {
		return
	}
	t := time.NewTimer(s.sweepInterval())
	defer t.Stop()
	suspects := map[orphan]bool{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !s.isBackup() { // a backup serves nothing, orphans neither
			suspects = s.sweep(ctx, suspects)
		}
		t.Reset(s.sweepInterval())
	}
}

// sweepInterval is Config.SweepInterval when set, else the option in force.
func (s *Server) sweepInterval() time.Duration {
	if s.cfg.SweepInterval > 0 {
		return s.cfg.SweepInterval
	}
	return s.options().Settings.OrphanSweepInterval
}

// sweep looks for orphans among the sessions of every chat server of the
// deployment, this one included: sessions the store lists under an owner
// that does not hold them (GET /sessions/held; an owner that cannot be
// reached holds nothing). A session seen so in two sweeps in a row, at the
// same owner and epoch, is adopted. It returns the orphans seen this time.
func (s *Server) sweep(ctx context.Context, suspects map[orphan]bool) map[orphan]bool {
	seen := map[orphan]bool{}
	for _, owner := range s.owners() {
		lctx, cancel := context.WithTimeout(ctx, storeTimeout)
		heads, err := s.cfg.Transcripts.Sessions(lctx, owner)
		cancel()
		if err != nil || len(heads) == 0 {
			continue
		}
		// Asked after the listing: a session the owner created or claimed
		// before it was listed is in its registry by then.
		held, ok := s.heldBy(ctx, owner)
		if !ok {
			continue
		}
		for _, h := range heads {
			o := orphan{h.ID, owner, h.Epoch}
			switch {
			case held[h.ID]:
			case suspects[o]:
				s.adoptOrphan(h)
			default:
				seen[o] = true
			}
		}
	}
	return seen
}

// owners returns the chat servers whose sessions are swept: the peers and
// this server.
func (s *Server) owners() []string {
	names := []string{s.cfg.Name}
	for name := range s.cfg.Peers {
		if name != s.cfg.Name {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// heldBy returns the sessions owner holds now. An owner that cannot be
// reached holds none; ok is false when its answer cannot be trusted (it
// refused, or it is of a version without GET /sessions/held): it is not
// swept this time.
func (s *Server) heldBy(ctx context.Context, owner string) (held map[string]bool, ok bool) {
	if owner == s.cfg.Name {
		return s.sessions.held(), true
	}
	ep, known := s.cfg.Peers[owner]
	if !known {
		return nil, false
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, ep.URL("http", "/sessions/held"), nil)
	if err != nil {
		return nil, false
	}
	s.cfg.Trust.Sign(req, ep)
	resp, err := s.peerHTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false
		}
		return map[string]bool{}, true // not reachable: a dead process holds nothing
	}
	defer resp.Body.Close()
	var h Held
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&h) != nil || h.Name != owner {
		return nil, false
	}
	held = make(map[string]bool, len(h.Sessions))
	for _, id := range h.Sessions {
		held[id] = true
	}
	return held, true
}

// Held is what GET /sessions/held answers: the sessions the chat server
// holds in memory now, being created, restored, live or ended and lingering.
type Held struct {
	Name     string   `json:"name"`
	Sessions []string `json:"sessions"`
}

func (s *Server) serveHeld(w http.ResponseWriter, _ *http.Request) {
	ids := make([]string, 0)
	for id := range s.sessions.held() {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	writeJSON(w, http.StatusOK, Held{Name: s.cfg.Name, Sessions: ids})
}

// held returns the ids of the registry's sessions.
func (r *registry) held() map[string]bool {
	out := map[string]bool{}
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.RLock()
		for id := range sh.m {
			out[id] = true
		}
		sh.mu.RUnlock()
	}
	return out
}

// adoptOrphan takes over orphan h on the session's drainer, unless the session is
// here already.
func (s *Server) adoptOrphan(h transcript.Session) {
	e := &entry{id: h.ID, push: make(map[string]*peer)}
	if !s.sessions.add(e) {
		return
	}
	if !s.exec(e, func(ctx context.Context) { s.adoptOp(ctx, e, h) }) {
		s.sessions.remove(e)
	}
}

// adoptOp claims orphan h at the epoch it was listed with (of two sweepers,
// or a sweeper and a customer's restore, exactly one wins), then restores
// it so that its timers run again (flex-disconnect-timeout, inactivity)
// and its interaction routes to this server, or, when nobody is left in
// it, finalises it.
func (s *Server) adoptOp(ctx context.Context, e *entry, h transcript.Session) {
	cctx, cancel := context.WithTimeout(ctx, storeTimeout)
	epoch, err := s.cfg.Transcripts.Claim(cctx, e.id, s.cfg.Name, s.incarnation, h.Epoch)
	cancel()
	if err != nil {
		s.drop(e) // taken, ended or unreadable: not ours
		if !errors.Is(err, transcript.ErrStaleEpoch) && !errors.Is(err, transcript.ErrNotFound) {
			s.log.Warn("orphan not claimed", "session", e.id, "owner", h.Owner, "err", err)
		}
		return
	}
	lctx, cancel := context.WithTimeout(ctx, storeTimeout)
	snap, err := s.cfg.Transcripts.Load(lctx, e.id)
	cancel()
	if err != nil || snap.Session.Epoch != epoch {
		s.drop(e)
		return
	}
	if s.expired(snap) {
		s.finaliseOrphan(ctx, e, snap, epoch)
		return
	}
	lo := s.options()
	sess, st, err := chat.Restore(snap, s.now(), chat.Options{SaveNotices: lo.saveNotices, Rules: lo.rules})
	if err != nil {
		s.finaliseOrphan(ctx, e, snap, epoch)
		return
	}
	e.sess, e.epoch = sess, epoch
	s.fenced.forget(e.id)
	if err := s.commit(ctx, e, st); err != nil {
		s.log.Warn("orphan restoration not saved", "session", e.id, "err", err)
		return
	}
	s.kpi.restored.Add(1)
	s.kpi.orphansRestored.Add(1)
	s.kpi.opened(e)
	s.ixn.relocate(e.id)
	s.event(evOrphanRestored, e.id, h.Owner, epoch)
	if s.cfg.Options.Settings.SessionRestoreDoPurge && h.Owner != s.cfg.Name {
		s.purgeOn(h.Owner, e.id)
	}
}

// finaliseOrphan ends an orphan nobody is left in, claimed here at epoch:
// its final transcript goes to the contact store unless it is there already
// (its owner died between that save and the deletion), its interaction is
// stopped and its intermediate transcript deleted. On a store failure the
// session stays in the store, owned here but not held: a later sweep
// adopts it again.
func (s *Server) finaliseOrphan(ctx context.Context, e *entry, snap transcript.Snapshot, epoch int64) {
	defer s.drop(e)
	ictx, cancel := context.WithTimeout(ctx, storeTimeout)
	_, err := s.cfg.Contacts.Interaction(ictx, e.id)
	cancel()
	switch {
	case errors.Is(err, contact.ErrNotFound):
		if err := s.retry(ctx, func(ctx context.Context) error { return s.saveSnapshot(ctx, snap) }); err != nil {
			s.kpi.saveFailed.Add(1)
			s.log.Error("orphan's final transcript not saved; a later sweep tries again", "session", e.id, "err", err)
			return
		}
	case err != nil:
		s.log.Warn("orphan not finalised: the contact store cannot be read", "session", e.id, "err", err)
		return
	}
	s.ixn.stop(e.id)
	dctx, cancel := context.WithTimeout(ctx, storeTimeout)
	err = s.cfg.Transcripts.Delete(dctx, e.id, epoch)
	cancel()
	if err != nil {
		s.log.Warn("orphan's intermediate transcript not deleted; a later sweep tries again", "session", e.id, "err", err)
		return
	}
	s.kpi.orphansFinalised.Add(1)
	s.event(evOrphanFinalised, e.id, snap.Session.Owner, epoch)
}

// saveSnapshot files the final transcript of a stored session that ended
// or expired.
func (s *Server) saveSnapshot(ctx context.Context, snap transcript.Snapshot) error {
	return s.fileFinal(ctx, snap.Session.ID, snap.Session.CreatedAt, lastEventAt(snap), snap.Events, snap.Session.UserData)
}

// lastEventAt is the time of a stored session's last event, or of its
// creation when it has none.
func lastEventAt(snap transcript.Snapshot) time.Time {
	if n := len(snap.Events); n > 0 {
		return snap.Events[n-1].Time
	}
	return snap.Session.CreatedAt
}

// expired reports whether an orphan has had no stored event for
// orphan-timeout: nobody resumed it, and it is finalised as it stands
// rather than restored, as Cassandra's time-to-live drops a Genesys chat
// server's forgotten records.
func (s *Server) expired(snap transcript.Snapshot) bool {
	ttl := s.options().Settings.OrphanTimeout
	return ttl > 0 && s.now().Sub(lastEventAt(snap)) >= ttl
}

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
	"github.com/parley-chat/parley/internal/wire"
)

// restoreRequest (RequestRestore) asks this chat server to take over a
// session whose owner the web API could not reach. The client's credentials
// prove the request; From names the unreachable owner.
type restoreRequest struct {
	partyRef
	From               string `json:"from"`
	TranscriptPosition int    `json:"transcriptPosition"`
}

// restore serves RequestRestore: it loads the session, takes ownership with
// a higher epoch and rebuilds it, then answers like a refresh from
// transcriptPosition. When the session already moved elsewhere, or another
// server won the race to restore it, the reply's alias names that server and
// nothing is restored here.
func (s *Server) restore(p *peer, m wire.Message) {
	var req restoreRequest
	if err := m.Bind(&req); err != nil {
		s.reject(p, m, err)
		return
	}
	if s.cfg.Options.Settings.SessionRestorationMode != "simple" || s.cfg.Options.Settings.TranscriptAutoSave == 0 {
		s.reject(p, m, wire.Errorf(wire.CodeNotAllowed, "session restoration is off on this chat server"))
		return
	}
	if s.sessions.get(req.SessionID) != nil {
		// Already here (an earlier restore, or a retry): serve it as a refresh.
		s.asParty(p, m, flexSide, &req.partyRef, func(_ context.Context, e *entry, who transcript.Party) (status, error) {
			return s.status(e, who.ID, e.sess.Visible(req.TranscriptPosition, who.Type)), nil
		})
		return
	}
	e := &entry{id: req.SessionID, push: make(map[string]*peer)}
	if !s.sessions.add(e) {
		s.reject(p, m, wire.Errorf(wire.CodeUnavailable, "the session is being restored here; retry"))
		return
	}
	if !s.exec(e, func(ctx context.Context) { s.restoreOp(ctx, p, m, e, req) }) {
		s.sessions.remove(e)
		s.reject(p, m, wire.Errorf(wire.CodeShuttingDown, "the chat server is shutting down"))
	}
}

func (s *Server) restoreOp(ctx context.Context, p *peer, m wire.Message, e *entry, req restoreRequest) {
	st, err := s.takeOver(ctx, e, req)
	if err != nil {
		s.drop(e)
		s.reject(p, m, err)
		return
	}
	p.conn.Reply(m, wire.EventStatus, st)
}

// takeOver is the restoration itself; on an error nothing was restored.
func (s *Server) takeOver(ctx context.Context, e *entry, req restoreRequest) (status, error) {
	lctx, cancel := context.WithTimeout(ctx, storeTimeout)
	snap, err := s.cfg.Transcripts.Load(lctx, e.id)
	cancel()
	switch {
	case errors.Is(err, transcript.ErrNotFound):
		return status{}, s.notRestorable(ctx, e.id, req.UserID)
	case err != nil:
		return status{}, wire.Errorf(wire.CodeStoreFailed, "the transcript could not be loaded")
	}
	client, ok := clientIn(snap, req.UserID)
	if !ok || !keyMatches(client.KeyHash, req.SecureKey) {
		return status{}, wire.Errorf(wire.CodeBadSecureKey, "bad secure key")
	}
	if req.From != "" && snap.Session.Owner != req.From && snap.Session.Owner != s.cfg.Name {
		return moved(snap.Session.Owner, e.id, req.UserID), nil
	}
	cctx, cancel := context.WithTimeout(ctx, storeTimeout)
	epoch, err := s.cfg.Transcripts.Claim(cctx, e.id, s.cfg.Name, snap.Session.Epoch)
	cancel()
	if errors.Is(err, transcript.ErrStaleEpoch) {
		return s.lostRace(ctx, e.id, req.UserID)
	}
	if err != nil {
		return status{}, wire.Errorf(wire.CodeStoreFailed, "the session could not be claimed")
	}
	// The old owner may have appended between our load and our claim; now
	// that it is fenced off, the transcript can no longer change under us.
	previous := snap.Session.Owner
	lctx, cancel = context.WithTimeout(ctx, storeTimeout)
	snap, err = s.cfg.Transcripts.Load(lctx, e.id)
	cancel()
	if err != nil {
		return status{}, wire.Errorf(wire.CodeStoreFailed, "the transcript could not be loaded")
	}
	if snap.Session.Epoch != epoch {
		return s.lostRace(ctx, e.id, req.UserID) // claimed again since
	}
	return s.rebuild(ctx, e, snap, previous, req)
}

// rebuild turns the loaded transcript, read after the claim, into a live
// session at the claimed epoch; previous is the owner it is taken from.
func (s *Server) rebuild(ctx context.Context, e *entry, snap transcript.Snapshot, previous string, req restoreRequest) (status, error) {
	lo := s.options()
	sess, st, err := chat.Restore(snap, s.now(), chat.Options{SaveNotices: lo.saveNotices, Rules: lo.rules})
	if err != nil {
		return status{}, wire.Errorf(wire.CodeSessionClosed, "the session has ended")
	}
	e.sess, e.epoch = sess, snap.Session.Epoch
	s.fenced.forget(e.id) // served here again, should it have been taken from here before
	if err := s.commit(ctx, e, st); err != nil {
		return status{}, err
	}
	if len(st.Events) > 0 {
		s.resumePush(e, req.UserID, st.Events[0].Index)
	}
	s.kpi.restored.Add(1)
	s.kpi.opened(e)
	s.ixn.relocate(e.id)
	s.log.Info("session restored", "session", e.id, "from", previous, "epoch", e.epoch)
	if s.cfg.Options.Settings.SessionRestoreDoPurge && previous != s.cfg.Name {
		s.purgeOn(previous, e.id)
	}
	return s.status(e, req.UserID, sess.Visible(req.TranscriptPosition, transcript.Client)), nil
}

// notRestorable is the refusal of a restore whose session has no
// intermediate transcript: 8202 when the contact store holds the chat's
// final transcript with this client in it (the chat ended: the client stops
// polling), 8200 otherwise. The secure key cannot be checked once a chat
// has ended, as the final transcript keeps no key; the client's userId is
// the proof, and all it learns is that the chat is over.
func (s *Server) notRestorable(ctx context.Context, id, userID string) error {
	cctx, cancel := context.WithTimeout(ctx, storeTimeout)
	in, err := s.cfg.Contacts.Interaction(cctx, id)
	cancel()
	if err == nil && slices.ContainsFunc(in.Parties, func(p contact.Party) bool {
		return p.UserID == userID && p.Type == string(transcript.Client)
	}) {
		return wire.Errorf(wire.CodeSessionClosed, "the session has ended")
	}
	return wire.Errorf(wire.CodeNoSuchSession, "no such session")
}

// lostRace answers a restore that another server won: the reply names it.
func (s *Server) lostRace(ctx context.Context, id, userID string) (status, error) {
	lctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	head, err := s.cfg.Transcripts.Header(lctx, id)
	if err != nil {
		return status{}, wire.Errorf(wire.CodeUnavailable, "the session is being restored elsewhere; retry")
	}
	return moved(head.Owner, id, userID), nil
}

// moved is the reply that sends the web API to the session's owner.
func moved(owner, id, userID string) status {
	return status{SessionID: id, UserID: userID, Alias: owner, Messages: []transcript.APIMessage{}}
}

// clientIn finds a client party of the transcript by id.
func clientIn(snap transcript.Snapshot, userID string) (transcript.Party, bool) {
	for _, e := range snap.Events {
		if e.Type == transcript.ParticipantJoined && e.Party != nil && e.Party.ID == userID && e.Party.Type == transcript.Client {
			return *e.Party, true
		}
	}
	return transcript.Party{}, false
}

// purgeOn tells the previous owner to drop its copy of a session
// (session-restore-do-purge). The epoch fence already stops that copy from
// writing; the purge frees it at once instead of at its next write.
func (s *Server) purgeOn(owner, id string) {
	ep, ok := s.cfg.Peers[owner]
	if !ok {
		return
	}
	s.spawn(func() {
		ctx, cancel := context.WithTimeout(s.work, 5*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL("http", "/admin/purge/"+id), nil)
		if err != nil {
			return
		}
		s.cfg.Trust.Sign(req, ep)
		resp, err := s.peerHTTP.Do(req)
		if err != nil {
			s.log.Debug("purge request not delivered", "owner", owner, "session", id, "err", err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			s.log.Warn("purge refused by the previous owner", "owner", owner, "session", id, "status", resp.StatusCode)
		}
	})
}

// servePurge drops a session another chat server has taken over
// (POST /admin/purge/{id}), once the store confirms it: another server must
// own the session at a higher epoch than the one held here, so that a
// mistaken or forged purge cannot end a chat this server still owns. It
// answers 204 when the copy is dropped or not here, 409 (code 104) when
// this server still owns the session, 503 (8212) when the store cannot
// tell, each error as a JSON wire error.
func (s *Server) servePurge(w http.ResponseWriter, r *http.Request) {
	e := s.sessions.get(r.PathValue("id"))
	if e == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	done := make(chan error, 1)
	if !s.exec(e, func(ctx context.Context) { done <- s.purge(ctx, e) }) {
		writeJSON(w, http.StatusServiceUnavailable, wire.Errorf(wire.CodeShuttingDown, "the chat server is shutting down"))
		return
	}
	var err error
	select {
	case err = <-done:
	case <-r.Context().Done():
		return
	}
	var we *wire.Error
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.As(err, &we) && we.Code == wire.CodeStoreFailed:
		writeJSON(w, http.StatusServiceUnavailable, err)
	default:
		writeJSON(w, http.StatusConflict, err)
	}
}

// purge drops e when the store names another owner at a higher epoch.
func (s *Server) purge(ctx context.Context, e *entry) error {
	if e.gone {
		return nil
	}
	lctx, cancel := context.WithTimeout(ctx, storeTimeout)
	head, err := s.cfg.Transcripts.Header(lctx, e.id)
	cancel()
	switch {
	case errors.Is(err, transcript.ErrNotFound):
		return wire.Errorf(wire.CodeNotAllowed, "not purged: the store does not hold the session, so no other owner is proven")
	case err != nil:
		return wire.Errorf(wire.CodeStoreFailed, "not purged: the store could not be read")
	case head.Owner == s.cfg.Name || head.Epoch <= e.epoch:
		return wire.Errorf(wire.CodeNotAllowed, "not purged: this chat server still owns the session at epoch %d", e.epoch)
	}
	s.log.Info("session purged: restored on another chat server", "session", e.id, "owner", head.Owner, "epoch", head.Epoch)
	s.kpi.fenced.Add(1)
	s.fenced.add(e.id)
	s.drop(e)
	return nil
}

// Location is where a session lives, as GET /sessions/{id}/location answers:
// an agent desktop whose chat server went away asks any chat server, and
// rejoins on the owner once the session is restored there.
type Location struct {
	SessionID string `json:"sessionId"`
	Owner     string `json:"owner"`
	Epoch     int64  `json:"epoch"`
}

func (s *Server) serveLocation(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	head, err := s.cfg.Transcripts.Header(ctx, r.PathValue("id"))
	switch {
	case errors.Is(err, transcript.ErrNotFound):
		writeJSON(w, http.StatusNotFound, wire.Errorf(wire.CodeNoSuchSession, "no such session"))
	case err != nil:
		writeJSON(w, http.StatusServiceUnavailable, wire.Errorf(wire.CodeStoreFailed, "the store is unavailable"))
	default:
		writeJSON(w, http.StatusOK, Location{SessionID: head.ID, Owner: head.Owner, Epoch: head.Epoch})
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

package chatserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/service"
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
// transcriptPosition. When the session lives on another chat server (a live
// owner whose current process holds it, or the winner of a race to restore
// it), the reply's alias names that server, nothing is restored here and
// nothing of the session is kept: a later restore is answered from the
// store again.
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
	s.restoreHere(p, m, req)
}

// restoreHere queues the restore on the session's entry: a new one that
// restores it from the store, or the one this server holds, which answers
// it as a refresh once its earlier operations are done.
func (s *Server) restoreHere(p *peer, m wire.Message, req restoreRequest) {
	for {
		if e := s.sessions.get(req.SessionID); e != nil {
			if !s.exec(e, func(ctx context.Context) { s.restoreHeld(ctx, p, m, e, req) }) {
				s.reject(p, m, wire.Errorf(wire.CodeShuttingDown, "the chat server is shutting down"))
			}
			return
		}
		e := &entry{id: req.SessionID, push: make(map[string]*peer)}
		if !s.sessions.add(e) {
			continue // added meanwhile by another request: queue behind it
		}
		if !s.exec(e, func(ctx context.Context) { s.restoreOp(ctx, p, m, e, req) }) {
			s.sessions.remove(e)
			s.reject(p, m, wire.Errorf(wire.CodeShuttingDown, "the chat server is shutting down"))
		}
		return
	}
}

// restoreHeld answers a restore of a session that had an entry here when
// the request came: as a refresh when the session is served here (an earlier
// restore, or a retry), or from the store again when the entry was dropped
// meanwhile (a restore that deferred or failed, a session fenced off).
func (s *Server) restoreHeld(ctx context.Context, p *peer, m wire.Message, e *entry, req restoreRequest) {
	if e.gone {
		s.restoreHere(p, m, req)
		return
	}
	who, err := s.authenticate(ctx, p, e, req.partyRef, flexSide)
	if err != nil {
		s.refuseRestore(p, m, req, err)
		return
	}
	e.sess.Touch(s.now(), who.ID)
	p.conn.Reply(m, wire.EventStatus, s.status(e, who.ID, e.sess.Visible(req.TranscriptPosition, who.Type)))
}

// restoreOp runs the restore of a session new here. Unless the session was
// rebuilt here, its entry goes at once: a deferral or a refusal keeps
// nothing.
func (s *Server) restoreOp(ctx context.Context, p *peer, m wire.Message, e *entry, req restoreRequest) {
	owner, err := s.takeOver(ctx, e, clientAsk(req), req.UserID)
	if err != nil || e.sess == nil {
		s.drop(e)
	}
	switch {
	case err != nil:
		s.refuseRestore(p, m, req, err)
	case e.sess == nil:
		s.log.Debug("restore deferred: the chat lives elsewhere", "session", e.id, "owner", owner, "from", req.From)
		p.conn.Reply(m, wire.EventStatus, moved(owner, e.id, req.UserID))
	default:
		p.conn.Reply(m, wire.EventStatus, s.status(e, req.UserID, e.sess.Visible(req.TranscriptPosition, transcript.Client)))
	}
}

// restoreAsk is who asks for a restoration. Prove checks the requester
// against the loaded transcript (nil: the requester needs no proof, as the
// interaction server relaying a workflow). With deferToOwner set, an owner other
// than from (the chat server the requester could not reach) and this one is
// deferred to while it holds the session.
type restoreAsk struct {
	from         string
	deferToOwner bool
	prove        func(transcript.Snapshot) error
}

// clientAsk is a customer's restore, proven by the client's secure key.
func clientAsk(req restoreRequest) restoreAsk {
	return restoreAsk{from: req.From, deferToOwner: req.From != "", prove: func(snap transcript.Snapshot) error {
		client, ok := clientIn(snap, req.UserID)
		if !ok || !keyMatches(client.KeyHash, req.SecureKey) {
			return wire.Errorf(wire.CodeBadSecureKey, "bad secure key")
		}
		return nil
	}}
}

// refuseRestore answers a restore with err and logs the refusal.
func (s *Server) refuseRestore(p *peer, m wire.Message, req restoreRequest, err error) {
	s.log.Info("restore refused", "session", req.SessionID, "from", req.From, "err", err)
	s.reject(p, m, err)
}

// takeOver is the restoration itself: it rebuilds the session in e, or
// leaves e.sess nil and returns the owner to defer to. On an error nothing
// was restored. userID is the party whose client the refusal of an ended
// chat names.
func (s *Server) takeOver(ctx context.Context, e *entry, ask restoreAsk, userID string) (owner string, err error) {
	lctx, cancel := context.WithTimeout(ctx, storeTimeout)
	snap, err := s.cfg.Transcripts.Load(lctx, e.id)
	cancel()
	switch {
	case errors.Is(err, transcript.ErrNotFound):
		return "", s.notRestorable(ctx, e.id, userID)
	case err != nil:
		return "", wire.Errorf(wire.CodeStoreFailed, "the transcript could not be loaded")
	}
	if ask.prove != nil {
		if err := ask.prove(snap); err != nil {
			return "", err
		}
	}
	if ask.deferToOwner && snap.Session.Owner != ask.from && snap.Session.Owner != s.cfg.Name {
		if s.ownerHolds(ctx, snap.Session) {
			return snap.Session.Owner, nil
		}
		s.log.Info("restoring a chat whose owner's process does not hold it", "session", e.id,
			"owner", snap.Session.Owner, "epoch", snap.Session.Epoch, "from", ask.from)
	}
	cctx, cancel := context.WithTimeout(ctx, storeTimeout)
	epoch, err := s.cfg.Transcripts.Claim(cctx, e.id, s.cfg.Name, s.incarnation, snap.Session.Epoch)
	cancel()
	if errors.Is(err, transcript.ErrStaleEpoch) {
		return s.lostRace(ctx, e.id)
	}
	if err != nil {
		return "", wire.Errorf(wire.CodeStoreFailed, "the session could not be claimed")
	}
	// The old owner may have appended between our load and our claim; now
	// that it is fenced off, the transcript can no longer change under us.
	previous := snap.Session.Owner
	lctx, cancel = context.WithTimeout(ctx, storeTimeout)
	snap, err = s.cfg.Transcripts.Load(lctx, e.id)
	cancel()
	if err != nil {
		return "", wire.Errorf(wire.CodeStoreFailed, "the transcript could not be loaded")
	}
	if snap.Session.Epoch != epoch {
		return s.lostRace(ctx, e.id) // claimed again since
	}
	return "", s.rebuild(ctx, e, snap, previous)
}

// rebuild turns the loaded transcript, read after the claim, into a live
// session at the claimed epoch; previous is the owner it is taken from.
func (s *Server) rebuild(ctx context.Context, e *entry, snap transcript.Snapshot, previous string) error {
	lo := s.options()
	sess, st, err := chat.Restore(snap, s.now(), chat.Options{SaveNotices: lo.saveNotices, Rules: lo.rules})
	if err != nil {
		return wire.Errorf(wire.CodeSessionClosed, "the session has ended")
	}
	e.sess, e.epoch = sess, snap.Session.Epoch
	s.fenced.forget(e.id) // served here again, should it have been taken from here before
	if err := s.commit(ctx, e, st); err != nil {
		return err
	}
	if client, ok := presentClient(sess); ok && len(st.Events) > 0 {
		s.resumePush(e, client, st.Events[0].Index)
	}
	s.kpi.restored.Add(1)
	s.kpi.opened(e)
	s.ixn.relocate(e.id)
	s.log.Info("session restored", "session", e.id, "from", previous, "epoch", e.epoch)
	if s.cfg.Options.Settings.SessionRestoreDoPurge && previous != s.cfg.Name {
		s.purgeOn(previous, e.id)
	}
	return nil
}

// presentClient returns the id of the session's present client party.
func presentClient(sess *chat.Session) (string, bool) {
	for _, p := range sess.Present() {
		if p.Type == transcript.Client {
			return p.ID, true
		}
	}
	return "", false
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

// lostRace answers a restore that another server won with its name.
func (s *Server) lostRace(ctx context.Context, id string) (string, error) {
	lctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	head, err := s.cfg.Transcripts.Header(lctx, id)
	if err != nil {
		return "", wire.Errorf(wire.CodeUnavailable, "the session is being restored elsewhere; retry")
	}
	return head.Owner, nil
}

// probeTimeout bounds the question a restoring server asks the owner it
// would defer to; an owner that does not answer in time is taken for dead.
const probeTimeout = 2 * time.Second

// ownerHolds reports whether a restore may defer to the session's owner:
// the owner is one of the deployment's chat servers, answers its GET
// /status, is not stopping, does not stand by as the backup of a pair (a
// primary that stood down keeps its incarnation but none of its chats), and
// is the process that created or last claimed
// the session (its incarnation is the session's). An owner restarted under
// the same name, or one that cannot be asked, does not hold the session, and
// the restore goes on here.
func (s *Server) ownerHolds(ctx context.Context, sess transcript.Session) bool {
	ep, ok := s.cfg.Peers[sess.Owner]
	if !ok || sess.Incarnation == "" {
		return false
	}
	st, err := s.peerStatus(ctx, ep)
	if err != nil {
		s.log.Debug("the owner did not answer", "session", sess.ID, "owner", sess.Owner, "err", err)
		return false
	}
	return !st.Stopping && st.Role != RoleBackup && st.Incarnation == sess.Incarnation
}

// peerStatus asks another chat server for its GET /status.
func (s *Server) peerStatus(ctx context.Context, ep service.Endpoint) (Status, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL("http", "/status"), nil)
	if err != nil {
		return Status{}, err
	}
	s.cfg.Trust.Sign(req, ep)
	resp, err := s.peerHTTP.Do(req)
	if err != nil {
		return Status{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Status{}, fmt.Errorf("chatserver: status of %s: HTTP %d", ep.Name, resp.StatusCode)
	}
	var st Status
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&st); err != nil {
		return Status{}, fmt.Errorf("chatserver: status of %s: %w", ep.Name, err)
	}
	return st, nil
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
// (session-restore-do-purge): through the interaction server, as the seed
// says, when there is one, else directly. The epoch fence already stops
// that copy from writing; the purge frees it at once instead of at its next
// write.
func (s *Server) purgeOn(owner, id string) {
	if s.ixn != nil {
		s.ixn.purge(owner, id)
		return
	}
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

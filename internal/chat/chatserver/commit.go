package chatserver

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// commit makes a step durable, delivers its events and, when the session
// ended, files its final transcript. The error is for the requester: the
// step's events could not be saved (yet), or the session now belongs to
// another chat server.
func (s *Server) commit(ctx context.Context, e *entry, st chat.Step) error {
	pending := len(e.unsaved) > 0
	if err := s.persist(ctx, e, st.Store); err != nil {
		return s.saveFailed(ctx, e, st, err)
	}
	s.deliver(e, st.Events)
	if len(st.Store) > 0 || pending {
		s.announce(e, "save")
	}
	s.ixn.change(e.id, st.Properties)
	if st.Closed {
		s.finish(ctx, e)
	}
	return nil
}

// persist appends events, after any left unsaved by earlier failures, to the
// intermediate store, retrying transcript-resend-attempts times. On an error
// they all stay in e.unsaved, in index order, for the next attempt: a later
// append never overtakes an earlier one.
func (s *Server) persist(ctx context.Context, e *entry, events []transcript.Event) error {
	if s.cfg.Options.Settings.TranscriptAutoSave == 0 {
		return nil
	}
	if len(e.unsaved) == 0 {
		// Nothing is pending, as is usual: keep the step's events as they
		// are. Nothing writes into them, and an append to e.unsaved writes
		// only past their length, where the step keeps nothing.
		e.unsaved = events
	} else {
		e.unsaved = append(e.unsaved, events...)
	}
	if len(e.unsaved) == 0 {
		return nil
	}
	return s.retry(ctx, func(ctx context.Context) error { return s.appendUnsaved(ctx, e) })
}

// appendUnsaved makes e.unsaved durable in one append and empties it. An
// index conflict means an earlier attempt that failed ambiguously (a timeout
// while its group commit went through) did store a prefix: that prefix is
// dropped and the rest appended, so that every event is stored exactly once.
func (s *Server) appendUnsaved(ctx context.Context, e *entry) error {
	e.tried = time.Now()
	err := s.cfg.Transcripts.Append(ctx, e.id, e.epoch, e.unsaved)
	if errors.Is(err, transcript.ErrIndexConflict) {
		if err = s.dropStored(ctx, e); err == nil && len(e.unsaved) > 0 {
			err = s.cfg.Transcripts.Append(ctx, e.id, e.epoch, e.unsaved)
		}
	}
	if err == nil {
		e.unsaved = nil
	}
	return err
}

// dropStored removes from e.unsaved the events the store already holds.
// Only this server writes at its epoch, and appends are atomic, so what is
// stored is a prefix of e.unsaved.
func (s *Server) dropStored(ctx context.Context, e *entry) error {
	snap, err := s.cfg.Transcripts.Load(ctx, e.id)
	switch {
	case err != nil:
		return err
	case snap.Session.Epoch != e.epoch:
		return transcript.ErrStaleEpoch
	case len(snap.Events) == 0:
		return transcript.ErrIndexConflict
	}
	last := snap.Events[len(snap.Events)-1].Index
	i := 0
	for i < len(e.unsaved) && e.unsaved[i].Index <= last {
		i++
	}
	e.unsaved = e.unsaved[i:]
	return nil
}

// announce tells every party, the customer included, of a save or a save
// failure when transcript-auto-save = 2.
func (s *Server) announce(e *entry, notice string) {
	if s.cfg.Options.Settings.TranscriptAutoSave == 2 && e.sess != nil {
		s.deliver(e, e.sess.Announce(s.now(), notice).Events)
	}
}

// retry runs f until it succeeds, the session is fenced off, or the
// transcript-resend-attempts are spent, transcript-resend-delay apart.
func (s *Server) retry(ctx context.Context, f func(context.Context) error) error {
	set := s.cfg.Options.Settings
	for attempt := 0; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, storeTimeout)
		err := f(cctx)
		cancel()
		if err == nil || errors.Is(err, transcript.ErrStaleEpoch) || attempt >= set.TranscriptResendAttempts {
			return err
		}
		s.log.Warn("transcript save failed, retrying", "attempt", attempt+1, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(set.TranscriptResendDelay):
		}
	}
}

// saveFailed applies the failure policy to a step whose events could not be
// saved and returns the requester's error.
func (s *Server) saveFailed(ctx context.Context, e *entry, st chat.Step, err error) error {
	if errors.Is(err, transcript.ErrStaleEpoch) {
		s.fence(e)
		return errStaleOwner()
	}
	s.kpi.saveFailed.Add(1)
	s.log.Error("transcript save failed", "session", e.id, "pending", len(e.unsaved), "err", err)
	s.announce(e, "ucs-save-fail")
	if s.cfg.Options.Settings.TranscriptSaveOnError == "continue" {
		// The session goes on in memory and its events reach the other
		// parties, but the requester is not told they are saved: they are
		// saved later, in order, by the next commit or by resave.
		s.deliver(e, st.Events)
		s.ixn.change(e.id, st.Properties)
		s.scheduleResave(e)
		if st.Closed {
			s.finish(ctx, e)
		}
		return wire.Errorf(wire.CodeStoreFailed, "the transcript is not saved yet; the session goes on and the save is retried")
	}
	// transcript-save-on-error = close: end the session without a final save.
	e.failed = true
	e.unsaved = nil
	events := st.Events
	if !e.sess.Closed() {
		cl, _ := e.sess.Close(s.now(), transcript.ReasonServer)
		events = append(events, cl.Events...)
	}
	s.deliver(e, events)
	s.finish(ctx, e)
	return wire.Errorf(wire.CodeStoreFailed, "the transcript could not be saved; the session was closed")
}

// scheduleResave retries the save of a session's unsaved events once every
// transcript-resend-delay until they are durable, with no request needed:
// a session nobody writes to is saved as soon as the store is back. The
// attempt runs on the session's drainer, so it is ordered with the commits.
func (s *Server) scheduleResave(e *entry) {
	if e.resaving {
		return
	}
	e.resaving = true
	wait := s.cfg.Options.Settings.TranscriptResendDelay - time.Since(e.tried)
	time.AfterFunc(max(wait, 0), func() {
		s.exec(e, func(ctx context.Context) {
			e.resaving = false
			s.resave(ctx, e)
		})
	})
}

func (s *Server) resave(ctx context.Context, e *entry) {
	if e.gone || len(e.unsaved) == 0 || s.sessions.get(e.id) != e {
		return
	}
	if time.Since(e.tried) < s.cfg.Options.Settings.TranscriptResendDelay {
		s.scheduleResave(e) // a commit tried them since this was scheduled
		return
	}
	cctx, cancel := context.WithTimeout(ctx, storeTimeout)
	err := s.appendUnsaved(cctx, e)
	cancel()
	switch {
	case err == nil:
		s.log.Info("pending transcript events saved", "session", e.id)
		s.announce(e, "save")
	case errors.Is(err, transcript.ErrStaleEpoch):
		s.fence(e)
	default:
		s.log.Warn("pending transcript events still not saved", "session", e.id, "pending", len(e.unsaved), "err", err)
		s.scheduleResave(e)
	}
}

// deliver pushes events to every bound party that may see them.
func (s *Server) deliver(e *entry, events []transcript.Event) {
	if len(events) == 0 {
		return
	}
	for id, p := range e.push {
		party, _, err := e.sess.Party(id)
		if err != nil {
			continue
		}
		seen := visibleTo(party.Type, events)
		if len(seen) == 0 {
			continue
		}
		if err := p.conn.Notify(wire.EventSessionInfo, s.status(e, id, seen)); err != nil {
			s.log.Debug("push failed", "session", e.id, "party", id, "err", err)
		}
	}
}

// visibleTo returns the events a party of type t sees: events itself when
// it sees them all, as it mostly does.
func visibleTo(t transcript.PartyType, events []transcript.Event) []transcript.Event {
	for i, ev := range events {
		if !t.Sees(ev.Visibility) {
			seen := slices.Clip(events[:i])
			for _, ev := range events[i+1:] {
				if t.Sees(ev.Visibility) {
					seen = append(seen, ev)
				}
			}
			return seen
		}
	}
	return events
}

// finish files the final transcript of an ended session in the contact
// store, deletes its intermediate transcript, and forgets it after a while.
func (s *Server) finish(ctx context.Context, e *entry) {
	if e.counted { // a session whose creation failed was never counted
		s.kpi.closed.Add(1)
	}
	s.kpi.left(e)
	s.ixn.stop(e.id)
	s.cleanUp(ctx, e, true)
}

// cleanUp files the final transcript of an ended session (unless a store
// failure ended it) and deletes its intermediate one. While the store
// refuses, it tries again in rounds a transcript-resend-delay apart (the
// final save's round making transcript-resend-attempts tries), and the ended
// session stays here meanwhile: a request for it is answered "closed"
// rather than "no such session", which would have it restored, alive, from
// the intermediate transcript on another chat server. A final save that
// fails counts once in transcript_save_failed: on its first attempt.
func (s *Server) cleanUp(ctx context.Context, e *entry, first bool) {
	if !e.failed && !e.filed {
		if err := s.retry(ctx, func(ctx context.Context) error { return s.saveFinal(ctx, e) }); err != nil {
			s.log.Error("final transcript not saved yet; retrying", "session", e.id, "err", err)
			if first {
				s.kpi.saveFailed.Add(1)
			}
			s.retryCleanUp(e)
			return
		}
		e.filed = true
		e.unsaved = nil // the final transcript holds them
	}
	if s.cfg.Options.Settings.TranscriptAutoSave > 0 {
		dctx, cancel := context.WithTimeout(ctx, storeTimeout)
		err := s.cfg.Transcripts.Delete(dctx, e.id, e.epoch)
		cancel()
		if err != nil && !errors.Is(err, transcript.ErrStaleEpoch) { // stale: the new owner's to delete
			s.log.Warn("intermediate transcript not deleted yet; retrying", "session", e.id, "err", err)
			s.retryCleanUp(e)
			return
		}
	}
	s.event(evSessionDeleted, e.id, e.id, s.kpi.current.Load())
	s.lingerThenForget(e)
}

// retryCleanUp runs cleanUp again after transcript-resend-delay, on the
// session's drainer.
func (s *Server) retryCleanUp(e *entry) {
	time.AfterFunc(s.cfg.Options.Settings.TranscriptResendDelay, func() {
		s.exec(e, func(ctx context.Context) {
			if !e.gone {
				s.cleanUp(ctx, e, false)
			}
		})
	})
}

func (s *Server) saveFinal(ctx context.Context, e *entry) error {
	sess := e.sess
	return s.fileFinal(ctx, e.id, sess.CreatedAt(), sess.EndedAt(), sess.Stored(), sess.UserData())
}

// fileFinal files a session's final transcript, as XML and JSON, with its
// interaction and contact in the contact store: from a live session at its
// end (saveFinal), or from the store for an orphan (saveSnapshot).
func (s *Server) fileFinal(ctx context.Context, id string, started, ended time.Time, events []transcript.Event, ud map[string]string) error {
	f := transcript.Final{SessionID: id, StartAt: started, Events: events}
	xml, err := f.XML()
	if err != nil {
		return err
	}
	js, err := f.JSON()
	if err != nil {
		return err
	}
	in := contact.Interaction{
		ID: id, MediaType: "chat", TypeID: "Inbound", SubtypeID: "InboundNew",
		Subject: ud["Subject"], StartedAt: started, EndedAt: ended,
		Owner: s.cfg.Name, Parties: historyParties(f.Events), UserData: ud,
		TranscriptXML: string(xml), TranscriptJSON: js,
	}
	c := contact.Contact{FirstName: ud["FirstName"], LastName: ud["LastName"], EmailAddress: ud["EmailAddress"], Nickname: ud["Nickname"]}
	_, err = s.cfg.Contacts.SaveInteraction(ctx, c, in)
	return err
}

func historyParties(events []transcript.Event) []contact.Party {
	var ps []contact.Party
	for _, ev := range events {
		if ev.Type == transcript.ParticipantJoined && ev.Party != nil {
			p := ev.Party
			ps = append(ps, contact.Party{UserID: p.ID, Type: string(p.Type), Nickname: p.Nickname, PersonID: p.PersonID})
		}
	}
	return ps
}

// lingerThenForget keeps an ended session readable for a while, so that
// parties still polling get its last events and chatEnded.
func (s *Server) lingerThenForget(e *entry) {
	time.AfterFunc(linger, func() { s.sessions.remove(e) })
}

// fence drops a session another chat server has taken over: its store
// refused a write of ours for a stale epoch, or the new owner purged it.
// Requests for it are refused with 8211 for a while (fencedSet).
func (s *Server) fence(e *entry) {
	s.log.Warn("session fenced off by another chat server; dropping it", "session", e.id)
	s.kpi.fenced.Add(1)
	s.fenced.add(e.id)
	s.drop(e)
}

// drop forgets a session at once: another chat server owns it now, or it
// never came to life here.
func (s *Server) drop(e *entry) {
	e.gone = true
	s.sessions.remove(e)
	s.kpi.left(e)
}

// status builds the EventStatus/EventSessionInfo body for a party.
func (s *Server) status(e *entry, partyID string, events []transcript.Event) status {
	st := status{
		SessionID:    e.id,
		UserID:       partyID,
		Alias:        s.cfg.Name,
		ChatEnded:    e.sess.Closed(),
		NextPosition: e.sess.NextPosition(),
		Messages:     make([]transcript.APIMessage, 0, len(events)),
	}
	for _, ev := range events {
		var from *transcript.Party
		if p, _, err := e.sess.Party(ev.PartyID); err == nil {
			from = &p
		}
		st.Messages = append(st.Messages, transcript.NewAPIMessage(ev, from))
	}
	return st
}

// wireError maps an engine error to the error the requester receives.
func wireError(err error) error {
	var code wire.Code
	switch {
	case errors.Is(err, chat.ErrClosed):
		code = wire.CodeSessionClosed
	case errors.Is(err, chat.ErrNoSuchParty):
		code = wire.CodeNoSuchUser
	case errors.Is(err, chat.ErrPartyLeft):
		code = wire.CodeLoggedOut
	case errors.Is(err, chat.ErrNotAllowed), errors.Is(err, chat.ErrDuplicateParty):
		code = wire.CodeNotAllowed
	case errors.Is(err, chat.ErrInvalid):
		code = wire.CodeBadRequest
	case errors.Is(err, chat.ErrTooLong), errors.Is(err, chat.ErrTranscriptFull):
		code = wire.CodeTooLarge
	case errors.Is(err, chat.ErrTooFast):
		code = wire.CodeRateLimited
	default:
		return err
	}
	return wire.Errorf(code, "%s", err.Error())
}

package chatserver

import (
	"context"
	"errors"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// commit makes a step durable, delivers its events and, when the session
// ended, files its final transcript. The error is for the requester: the
// step's events could not be saved, or the session now belongs to another
// chat server.
func (s *Server) commit(ctx context.Context, e *entry, st chat.Step) error {
	if err := s.persist(ctx, e, st.Store); err != nil {
		s.announce(e, "ucs-save-fail")
		return s.saveFailed(ctx, e, st, err)
	}
	s.deliver(e, st.Events)
	if len(st.Store) > 0 {
		s.announce(e, "save")
	}
	s.ixn.change(e.id, st.Properties)
	if st.Closed {
		s.finish(ctx, e)
	}
	return nil
}

// persist appends events, and any left unsaved by earlier failures, to the
// intermediate store, retrying transcript-resend-attempts times.
func (s *Server) persist(ctx context.Context, e *entry, events []transcript.Event) error {
	set := s.cfg.Options.Settings
	if set.TranscriptAutoSave == 0 || len(events)+len(e.unsaved) == 0 {
		return nil
	}
	batch := append(e.unsaved, events...)
	failedBefore := false
	err := s.retry(ctx, func(ctx context.Context) error {
		err := s.cfg.Transcripts.Append(ctx, e.id, e.epoch, batch)
		if errors.Is(err, transcript.ErrIndexConflict) && failedBefore && s.stored(ctx, e, batch) {
			return nil // an earlier attempt timed out here but did commit
		}
		failedBefore = err != nil
		return err
	})
	if err != nil {
		e.unsaved = batch
		return err
	}
	e.unsaved = nil
	return nil
}

// stored reports whether the last event of batch is in the store: after an
// append that failed ambiguously (a timeout while its group commit went
// through), retrying it meets its own events.
func (s *Server) stored(ctx context.Context, e *entry, batch []transcript.Event) bool {
	snap, err := s.cfg.Transcripts.Load(ctx, e.id)
	if err != nil || len(snap.Events) == 0 {
		return false
	}
	return snap.Session.Epoch == e.epoch && snap.Events[len(snap.Events)-1].Index >= batch[len(batch)-1].Index
}

// announce tells the agents of a save or a save failure when
// transcript-auto-save = 2.
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
	s.kpi.saveFailed.Add(1)
	if errors.Is(err, transcript.ErrStaleEpoch) {
		s.log.Warn("session fenced off by another chat server; dropping it", "session", e.id)
		s.drop(e)
		return wire.Errorf(wire.CodeStaleOwner, "the session is now served by another chat server")
	}
	s.log.Error("transcript save failed", "session", e.id, "err", err)
	if s.cfg.Options.Settings.TranscriptSaveOnError == "continue" {
		s.deliver(e, st.Events)
		if st.Closed {
			s.finish(ctx, e)
		}
		return nil
	}
	// transcript-save-on-error = close: end the session without a final save.
	e.failed = true
	events := st.Events
	if !e.sess.Closed() {
		cl, _ := e.sess.Close(s.now(), transcript.ReasonServer)
		events = append(events, cl.Events...)
	}
	s.deliver(e, events)
	s.finish(ctx, e)
	return wire.Errorf(wire.CodeStoreFailed, "the transcript could not be saved; the session was closed")
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
		var seen []transcript.Event
		for _, ev := range events {
			if party.Type.Sees(ev.Visibility) {
				seen = append(seen, ev)
			}
		}
		if len(seen) == 0 {
			continue
		}
		if err := p.conn.Notify(wire.EventSessionInfo, s.status(e, id, seen)); err != nil {
			s.log.Debug("push failed", "session", e.id, "party", id, "err", err)
		}
	}
}

// finish files the final transcript of an ended session in the contact
// store, deletes its intermediate transcript, and forgets it after a while.
func (s *Server) finish(ctx context.Context, e *entry) {
	s.kpi.closed.Add(1)
	s.kpi.current.Add(-1)
	s.ixn.stop(e.id)
	if !e.failed {
		if err := s.retry(ctx, func(ctx context.Context) error { return s.saveFinal(ctx, e) }); err != nil {
			s.log.Error("final transcript not saved; the intermediate one is kept", "session", e.id, "err", err)
			s.kpi.saveFailed.Add(1)
			s.lingerThenForget(e)
			return
		}
	}
	if s.cfg.Options.Settings.TranscriptAutoSave > 0 {
		dctx, cancel := context.WithTimeout(ctx, storeTimeout)
		if err := s.cfg.Transcripts.Delete(dctx, e.id, e.epoch); err != nil {
			s.log.Warn("intermediate transcript not deleted", "session", e.id, "err", err)
		}
		cancel()
	}
	s.lingerThenForget(e)
}

func (s *Server) saveFinal(ctx context.Context, e *entry) error {
	sess := e.sess
	f := transcript.Final{SessionID: e.id, StartAt: sess.CreatedAt(), Events: sess.Stored()}
	xml, err := f.XML()
	if err != nil {
		return err
	}
	js, err := f.JSON()
	if err != nil {
		return err
	}
	ud := sess.UserData()
	in := contact.Interaction{
		ID: e.id, MediaType: "chat", TypeID: "Inbound", SubtypeID: "InboundNew",
		Subject: ud["Subject"], StartedAt: sess.CreatedAt(), EndedAt: sess.EndedAt(),
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

// drop forgets a session at once: another chat server owns it now.
func (s *Server) drop(e *entry) {
	e.gone = true
	s.sessions.remove(e)
	if e.sess != nil && !e.sess.Closed() {
		s.kpi.current.Add(-1)
	}
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
	default:
		return err
	}
	return wire.Errorf(code, "%s", err.Error())
}

package chat

import (
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// Restore rebuilds a session from its intermediate transcript, on another
// chat server after its owner died, and returns the restoration step: every
// party that was present leaves with reason 8 (normalised away) and joins
// again, the "disconnected and connected again" the seed describes, so that
// every party learns of the move. Clients keep their userId and secureKey.
// Agents keep their party and must rejoin within flex-disconnect-timeout, or
// they are removed (reason 3). It returns ErrClosed when nobody is left in
// the transcript.
func Restore(snap transcript.Snapshot, now time.Time, opts Options) (*Session, Step, error) {
	opts.Async = snap.Session.Async
	opts.UserData = snap.Session.UserData
	s := New(snap.Session.ID, snap.Session.CreatedAt, opts)
	for _, e := range snap.Events {
		s.replay(e)
	}
	present := s.presentMembers()
	if len(present) == 0 {
		return nil, Step{}, fmt.Errorf("%w: no party left to restore", ErrClosed)
	}
	var st Step
	// The normalisation is not activity: it must neither extend a dormant
	// async chat nor mark it for routing again.
	s.normalising = true
	for _, m := range present {
		m.present = false
		s.add(&st, transcript.Event{Type: transcript.ParticipantLeft, PartyID: m.ID, Visibility: m.Visibility, Reason: transcript.ReasonRestored, AskerID: m.ID}, now, true)
		m.present = true
		joined := m.Party
		s.add(&st, transcript.Event{Type: transcript.ParticipantJoined, PartyID: m.ID, Visibility: m.Visibility, Party: &joined}, now, true)
		s.armProtocol(now, m)
		switch {
		case m.Protocol == ESPProtocol:
			m.protocolAt = time.Time{} // nobody rejoins an ESP party
		case m.Type != transcript.Client:
			m.protocolAt = now.Add(opts.Rules.FlexDisconnect)
		}
	}
	s.normalising = false
	// A regular countdown (minutes) starts over: every party had to
	// reconnect. An async one (days) continues, or a chat would outlive its
	// async-idle-close by a day at each failover.
	if opts.Rules.Idle.Enabled && s.hasPresent(transcript.Client) && s.hasPresent(transcript.Agent) {
		s.idle.arm(now, opts.Rules.Idle.Alert, stageAlert)
	}
	if opts.Async {
		s.resumeAsync(snap.Session.CreatedAt)
	}
	return s, st, nil
}

// resumeAsync rebuilds the async countdown from the stored transcript: it
// runs from the last stored qualified event (from the creation when there is
// none), and is at its close stage when an alert notice was stored no
// earlier than that event's async-idle-alert deadline. Earlier restorations'
// leaves and joins do not count. A qualified notice that was not stored
// (transcript-save-notices) is not seen, so the countdown may end earlier
// than it would have; an alert with an empty message-alert leaves no trace,
// so it is repeated.
func (s *Session) resumeAsync(created time.Time) {
	r := s.opts.Rules
	last, alert := stamp(created), time.Time{}
	seen := make(map[string]bool)
	for _, le := range s.log {
		e := le.Event
		rejoin := e.Type == transcript.ParticipantJoined && e.Party != nil && seen[e.Party.ID]
		if e.Type == transcript.ParticipantJoined && e.Party != nil {
			seen[e.Party.ID] = true
		}
		sender := s.byID[e.PartyID]
		switch {
		case e.Visibility != transcript.VisAll || rejoin || e.Reason == transcript.ReasonRestored:
		case e.NoticeType == IdleAlertNotice:
			if !e.Time.Before(last.Add(r.AsyncAlert)) {
				alert = e.Time
			}
		case e.NoticeType == IdleCloseNotice || (sender != nil && sender.Type == transcript.External):
		case qualified(e, r.AsyncNotices):
			last, alert = e.Time, time.Time{}
		}
	}
	if alert.IsZero() {
		s.async.arm(last, r.AsyncAlert, stageAlert)
	} else {
		s.async.arm(alert, r.AsyncClose, stageClose)
	}
}

// replay applies one stored event to a session being rebuilt.
func (s *Session) replay(e transcript.Event) {
	s.log = append(s.log, entry{Event: e, stored: true})
	s.size += eventSize(e)
	switch e.Type {
	case transcript.ParticipantJoined:
		if e.Party == nil {
			return
		}
		if m, ok := s.byID[e.Party.ID]; ok {
			m.present = true
			return
		}
		m := &member{Party: *e.Party, present: true}
		s.members = append(s.members, m)
		s.byID[m.ID] = m
	case transcript.ParticipantLeft:
		if m, ok := s.byID[e.PartyID]; ok {
			m.present = false
		}
	case transcript.NicknameUpdated:
		if m, ok := s.byID[e.PartyID]; ok && e.Text != "" {
			m.Nickname = e.Text
		}
	}
}

// Rejoin binds a restored agent-side party again: it stops the wait for its
// return. It returns ErrNoSuchParty or ErrPartyLeft when it is not there.
func (s *Session) Rejoin(partyID string) (transcript.Party, error) {
	m, err := s.active(partyID)
	if err != nil {
		return transcript.Party{}, err
	}
	if m.Type == transcript.Client {
		return transcript.Party{}, fmt.Errorf("%w: a client does not rejoin", ErrNotAllowed)
	}
	m.protocolAt = time.Time{}
	return m.Party, nil
}

func (s *Session) presentMembers() []*member {
	var ms []*member
	for _, m := range s.members {
		if m.present {
			ms = append(ms, m)
		}
	}
	return ms
}

func (s *Session) nextParticipant() int { return len(s.members) + 1 }

package chat

import (
	"maps"
	"strconv"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// Rules are the timeouts of a session, from the chat server's options. A
// change (SetRules) applies to a running session from its next activity or
// timeout, as Genesys documents for [inactivity-control].
type Rules struct {
	// FlexDisconnect is flex-disconnect-timeout: a client that sends no
	// request for this long is removed (reason 3). Zero disables it.
	FlexDisconnect time.Duration
	// FlexPush is flex-push-timeout: for a client whose events are pushed,
	// how often the web API is asked whether it is still connected.
	FlexPush time.Duration
	// Idle is [inactivity-control].
	Idle IdleRules
	// AsyncAlert and AsyncClose are async-idle-alert and async-idle-close,
	// applied to async sessions only; AsyncNotices is async-idle-notices.
	AsyncAlert, AsyncClose time.Duration
	AsyncNotices           NoticeSet
	// Limits bound what the parties may add to the session.
	Limits Limits
}

// IdleRules are the [inactivity-control] options.
type IdleRules struct {
	Enabled bool
	// Notices is include-notices: the notices that count as activity.
	Notices              NoticeSet
	Alert, Alert2, Close time.Duration
	// MessageAlert, MessageAlert2 and MessageClose are the notice texts; an
	// empty text sends no notice. The async alert and close use them too.
	MessageAlert, MessageAlert2, MessageClose string
}

// Notice types of the server's inactivity notices, as Chat Server names them.
const (
	IdleAlertNotice = "IDLE_CONTROL_ALERT"
	IdleCloseNotice = "IDLE_CONTROL_CLOSE"
)

// Interaction properties the chat server keeps for async sessions.
const (
	AsyncStatusProperty  = "GCTI_Chat_AsyncStatus"
	AsyncCheckAtProperty = "GCTI_Chat_AsyncCheckAt"
	// AsyncStatusActivity marks customer activity in a dormant async chat (route it again).
	AsyncStatusActivity = "2"
	// AsyncStatusIdle marks an async chat whose idle alert fired.
	AsyncStatusIdle = "3"
)

// idleStage is how far an inactivity countdown has gone.
type idleStage int

const (
	stageAlert  idleStage = iota // next: the (first) alert
	stageAlert2                  // next: the second alert
	stageClose                   // next: close
)

// countdown is one inactivity configuration's timer: the next deadline
// (zero when it is not running) and what happens then.
type countdown struct {
	at    time.Time
	stage idleStage
}

func (c *countdown) arm(now time.Time, d time.Duration, stage idleStage) {
	c.at, c.stage = now.Add(d), stage
}

func (c *countdown) stop() { *c = countdown{} }

func (c countdown) due(now time.Time) bool { return !c.at.IsZero() && !now.Before(c.at) }

// SetRules replaces the session's timeouts. A running countdown keeps its
// deadline; the new rules apply from the session's next activity or timeout
// (a countdown due after [inactivity-control] was disabled just stops), as
// Genesys documents for a change of enabled.
func (s *Session) SetRules(r Rules) { s.opts.Rules = r }

// Properties returns the interaction properties the session set (the async
// status and check time).
func (s *Session) Properties() map[string]string { return maps.Clone(s.props) }

// Touch records protocol activity of a client party: a request reached the
// server, so flex-disconnect-timeout starts again. It does nothing for a
// party whose events are pushed (flex-push-timeout applies to it) or that
// is not a present client.
func (s *Session) Touch(now time.Time, partyID string) {
	if m := s.presentClient(partyID); m != nil && !m.push {
		s.armProtocol(now, m)
	}
}

// SetPush switches a client party between its two protocol timeouts: with
// on, the web API pushes its events (a CometD subscription) and
// flex-push-timeout applies; with off, flex-disconnect-timeout does again.
func (s *Session) SetPush(now time.Time, partyID string, on bool) {
	if m := s.presentClient(partyID); m != nil {
		m.push, m.checking = on, false
		s.armProtocol(now, m)
	}
}

// Confirm is the web API's answer to a liveness check of a pushed client:
// alive re-arms flex-push-timeout; not alive removes the client (reason 3).
func (s *Session) Confirm(now time.Time, partyID string, alive bool) (Step, error) {
	m := s.presentClient(partyID)
	if m == nil || !m.checking {
		return Step{}, nil
	}
	if !alive {
		return s.Remove(now, partyID, transcript.ReasonDisconnect)
	}
	m.checking = false
	s.armProtocol(now, m)
	return Step{}, nil
}

func (s *Session) armProtocol(now time.Time, m *member) {
	d := s.opts.Rules.FlexDisconnect
	if m.push {
		d = s.opts.Rules.FlexPush
	}
	m.protocolAt = time.Time{}
	if d > 0 {
		m.protocolAt = now.Add(d)
	}
}

func (s *Session) presentClient(id string) *member {
	m, ok := s.byID[id]
	if !ok || !m.present || m.Type != transcript.Client || s.closed {
		return nil
	}
	return m
}

// Deadline returns when the session next needs Tick, or the zero time when
// no timer runs.
func (s *Session) Deadline() time.Time {
	if s.closed {
		return time.Time{}
	}
	next := earliest(s.idle.at, s.async.at)
	for _, m := range s.members {
		if m.present {
			next = earliest(next, m.protocolAt)
		}
	}
	return next
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// Tick fires the timers that are due at now: protocol timeouts of clients,
// the [inactivity-control] alerts and close, the async idle alert and close.
// It returns the step and the client parties whose liveness the web API must
// be asked about (then answered with Confirm).
func (s *Session) Tick(now time.Time) (Step, []string) {
	var st Step
	var checks []string
	for _, m := range s.members {
		if s.closed || !m.present || m.protocolAt.IsZero() || now.Before(m.protocolAt) {
			continue
		}
		if m.push && !m.checking {
			m.checking = true
			s.armProtocol(now, m)
			checks = append(checks, m.ID)
			continue
		}
		s.depart(&st, now, m, m.ID, transcript.ReasonDisconnect)
		s.closeIfEmpty(&st, now)
	}
	if !s.closed && s.idle.due(now) {
		// Rules changed at run time decide at the timeout: a countdown
		// armed before [inactivity-control] was disabled ends silently.
		if s.opts.Rules.Idle.Enabled {
			s.fireIdle(&st, now)
		} else {
			s.idle.stop()
		}
	}
	if !s.closed && s.async.due(now) {
		s.fireAsync(&st, now)
	}
	return st, checks
}

// fireIdle runs the next [inactivity-control] stage: alert, second alert
// (when timeout-alert2 is set), then close with reason 7.
func (s *Session) fireIdle(st *Step, now time.Time) {
	r := s.opts.Rules.Idle
	switch s.idle.stage {
	case stageAlert:
		if r.Alert2 > 0 {
			s.idle.arm(now, r.Alert2, stageAlert2)
		} else {
			s.idle.arm(now, r.Close, stageClose)
		}
		s.idleAlert(st, now, r.MessageAlert, s.idle)
	case stageAlert2:
		s.idle.arm(now, r.Close, stageClose)
		s.idleAlert(st, now, r.MessageAlert2, s.idle)
	default:
		s.idleClose(st, now, r.MessageClose)
		s.closeAll(st, now, "", transcript.ReasonIdle)
	}
}

// fireAsync runs the async idle alert (setting the async status and check
// time) and then the close.
func (s *Session) fireAsync(st *Step, now time.Time) {
	r := s.opts.Rules
	if s.async.stage == stageAlert {
		s.async.arm(now, r.AsyncClose, stageClose)
		s.idleAlert(st, now, r.Idle.MessageAlert, s.async)
		s.setProperty(st, AsyncStatusProperty, AsyncStatusIdle)
		s.setProperty(st, AsyncCheckAtProperty, strconv.FormatInt(s.async.at.Unix(), 10))
		return
	}
	s.idleClose(st, now, r.Idle.MessageClose)
	s.closeAll(st, now, "", transcript.ReasonIdle)
}

// UserData keys of an IdleAlert event: what the inactivity countdown does
// next and in how many seconds, from which the Genesys widget shows its
// countdown.
const (
	NextIdleTimerTypeKey = "next-idle-timer-type"
	NextIdleTimerSecsKey = "next-idle-timer-secs"
)

// idleAlert adds the IdleAlert event (noticeType IDLE_CONTROL_ALERT) with
// text, announcing next, the countdown just armed: the next stage's notice
// type and its delay in whole seconds. An empty text adds nothing.
func (s *Session) idleAlert(st *Step, now time.Time, text string, next countdown) {
	if text == "" {
		return
	}
	kind := IdleAlertNotice
	if next.stage == stageClose {
		kind = IdleCloseNotice
	}
	secs := int64(next.at.Sub(now) / time.Second)
	s.add(st, transcript.Event{Type: transcript.IdleAlert, Visibility: transcript.VisAll, Text: text, NoticeType: IdleAlertNotice,
		UserData: map[string]string{NextIdleTimerTypeKey: kind, NextIdleTimerSecsKey: strconv.FormatInt(secs, 10)}}, now, true)
}

// idleClose adds the IdleClose event (noticeType IDLE_CONTROL_CLOSE) with
// text; an empty text adds nothing.
func (s *Session) idleClose(st *Step, now time.Time, text string) {
	if text != "" {
		s.add(st, transcript.Event{Type: transcript.IdleClose, Visibility: transcript.VisAll, Text: text, NoticeType: IdleCloseNotice}, now, true)
	}
}

func (s *Session) setProperty(st *Step, key, value string) {
	if s.props[key] != value {
		s.publish(st, key, value)
	}
}

// publish sets an interaction property and adds it to the step.
func (s *Session) publish(st *Step, key, value string) {
	if s.props == nil {
		s.props = make(map[string]string)
	}
	s.props[key] = value
	if st.Properties == nil {
		st.Properties = make(map[string]string)
	}
	st.Properties[key] = value
}

// observe updates the inactivity timers after event e was added: a
// qualified event (a message, a join or leave, a notice the options name,
// visible to all) restarts a countdown, and so does a cancel-idle-timer
// custom notice the [inactivity-control] one; [inactivity-control] runs only while
// a client and an agent are both present.
func (s *Session) observe(st *Step, e transcript.Event, now time.Time) {
	if s.normalising || e.Visibility != transcript.VisAll || e.NoticeType == IdleAlertNotice || e.NoticeType == IdleCloseNotice {
		return
	}
	r := s.opts.Rules
	sender := s.byID[e.PartyID]
	active := r.Idle.Enabled && s.hasPresent(transcript.Client) && s.hasPresent(transcript.Agent)
	switch {
	case !active:
		s.idle.stop()
	case qualified(e, r.Idle.Notices) || cancelsIdle(e) || s.idle.at.IsZero():
		s.idle.arm(now, r.Idle.Alert, stageAlert)
	}
	if !s.opts.Async || !qualified(e, r.AsyncNotices) || (sender != nil && sender.Type == transcript.External) {
		return
	}
	s.async.arm(now, r.AsyncAlert, stageAlert)
	// Customer activity in a chat no agent holds marks it for routing again,
	// every time: the workflow may have moved it since the last mark.
	if sender != nil && sender.Type == transcript.Client && e.Type != transcript.ParticipantJoined && !s.hasPresent(transcript.Agent) {
		s.publish(st, AsyncStatusProperty, AsyncStatusActivity)
	}
}

// PurposeKey and CancelIdleTimer are the eventAttributes of the custom
// notice the official widget sends when the customer touches the chat
// during an inactivity alert (purpose=cancel-idle-timer).
const (
	PurposeKey      = "purpose"
	CancelIdleTimer = "cancel-idle-timer"
)

// cancelsIdle reports whether e is a custom notice asking to cancel the
// inactivity alert: it restarts the countdown from the first alert
// whatever include-notices says, as the customer is there.
func cancelsIdle(e transcript.Event) bool {
	return e.Type == transcript.CustomNotice && e.EventAttributes[PurposeKey] == CancelIdleTimer
}

// qualified reports whether e counts as session activity under notices.
func qualified(e transcript.Event, notices NoticeSet) bool {
	switch e.Type {
	case transcript.Message, transcript.ParticipantJoined, transcript.ParticipantLeft:
		return true
	}
	return notices.Has(e.Type)
}

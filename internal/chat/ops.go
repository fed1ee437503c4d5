package chat

import (
	"cmp"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// Join adds a party and returns it with its participant number set. A
// non-empty greeting is sent as the party's first message. Only one client
// may be present at a time; a client always joins with visibility ALL.
func (s *Session) Join(now time.Time, p transcript.Party, greeting string) (transcript.Party, Step, error) {
	if err := s.canJoin(p); err != nil {
		return transcript.Party{}, Step{}, err
	}
	if p.Visibility == "" || p.Type == transcript.Client {
		p.Visibility = transcript.VisAll
	}
	p.ParticipantID = s.nextParticipant()
	p.UserData = maps.Clone(p.UserData)
	m := &member{Party: p, present: true}
	s.members = append(s.members, m)
	s.byID[p.ID] = m
	if p.Type == transcript.Client {
		s.armProtocol(now, m)
	}

	var st Step
	joined := p
	s.add(&st, transcript.Event{Type: transcript.ParticipantJoined, PartyID: p.ID, Visibility: p.Visibility, Party: &joined}, now, true)
	if greeting != "" {
		s.add(&st, transcript.Event{Type: transcript.Message, PartyID: p.ID, Visibility: p.Visibility, Text: greeting}, now, true)
	}
	return p, st, nil
}

func (s *Session) canJoin(p transcript.Party) error {
	switch {
	case s.closed:
		return ErrClosed
	case p.ID == "" || !p.Type.Valid():
		return fmt.Errorf("%w: party needs an id and a type", ErrInvalid)
	case p.Visibility != "" && !p.Visibility.Valid():
		return fmt.Errorf("%w: visibility %q", ErrInvalid, p.Visibility)
	case s.byID[p.ID] != nil:
		return ErrDuplicateParty
	case p.Type == transcript.Client && s.hasPresent(transcript.Client):
		return fmt.Errorf("%w: the session already has a client", ErrNotAllowed)
	}
	return nil
}

// Message is what a party sends with Send.
type Message struct {
	Text string
	// MessageType is the sender's free-form type (GMS messageType).
	MessageType string
	// Visibility defaults to the sender's join visibility; a client's is always ALL.
	Visibility transcript.Visibility
	UserData   map[string]string
	// EventAttributes are the sender's own attributes (GMS eventAttributes),
	// shown to the parties with the message; GCTI_SYSTEM is the server's.
	EventAttributes map[string]string
}

// Send adds a message from a present party.
func (s *Session) Send(now time.Time, from string, msg Message) (Step, error) {
	m, err := s.active(from)
	if err != nil {
		return Step{}, err
	}
	if msg.Text == "" {
		return Step{}, fmt.Errorf("%w: empty message", ErrInvalid)
	}
	if err := checkAttributes(msg.EventAttributes); err != nil {
		return Step{}, err
	}
	if err := s.admit(now, m, msg.Text, sizeOf(msg.Text, msg.UserData, msg.EventAttributes)); err != nil {
		return Step{}, err
	}
	vis, err := visibilityFor(m, msg.Visibility)
	if err != nil {
		return Step{}, err
	}
	var st Step
	s.add(&st, transcript.Event{
		Type: transcript.Message, PartyID: from, Visibility: vis,
		Text: msg.Text, MessageType: msg.MessageType, UserData: maps.Clone(msg.UserData),
		EventAttributes: maps.Clone(msg.EventAttributes),
	}, now, true)
	return st, nil
}

// Notice is what a party sends with Notify.
type Notice struct {
	// Type is TypingStarted, TypingStopped, PushUrl, CustomNotice,
	// NicknameUpdated or ReadReceipt.
	Type transcript.EventType
	Text string
	// Visibility defaults to the sender's join visibility; a client's is always ALL.
	Visibility transcript.Visibility
	UserData   map[string]string
	// EventAttributes are the sender's own attributes (GMS eventAttributes),
	// shown to the parties with the notice; GCTI_SYSTEM is the server's.
	// A custom notice with purpose cancel-idle-timer restarts the
	// inactivity countdown whatever include-notices says.
	EventAttributes map[string]string
}

// Notify adds a notice a present party sends itself: typing started or
// stopped, push URL, custom notice or nickname update. Whether it is stored
// follows Options.SaveNotices; it is delivered either way. A nickname update
// also renames the party, and is always stored. It returns ErrNotAllowed for
// the notices only the chat server adds (file uploaded or deleted, joins and
// leaves, system and idle notices), so that no party can forge them, and
// ErrInvalid for a message, an unknown type or an attribute GCTI_SYSTEM.
func (s *Session) Notify(now time.Time, from string, n Notice) (Step, error) {
	m, err := s.active(from)
	if err != nil {
		return Step{}, err
	}
	if err := s.admit(now, m, n.Text, sizeOf(n.Text, n.UserData, n.EventAttributes)); err != nil {
		return Step{}, err
	}
	if n.Type == transcript.ReadReceipt {
		return s.readReceipt(now, m, n.UserData[ReadPositionKey])
	}
	if err := partyMayNotify(n.Type); err != nil {
		return Step{}, err
	}
	if err := checkAttributes(n.EventAttributes); err != nil {
		return Step{}, err
	}
	if n.Type == transcript.NicknameUpdated {
		if n.Text == "" {
			return Step{}, fmt.Errorf("%w: empty nickname", ErrInvalid)
		}
		m.Nickname = n.Text
	}
	vis, err := visibilityFor(m, n.Visibility)
	if err != nil {
		return Step{}, err
	}
	var st Step
	e := transcript.Event{Type: n.Type, PartyID: from, Visibility: vis, Text: n.Text,
		UserData: maps.Clone(n.UserData), EventAttributes: maps.Clone(n.EventAttributes)}
	if n.Type == transcript.CustomNotice {
		e.NoticeType = "USER_CUSTOM"
	}
	// A nickname update changes the party, so it is always stored: a
	// restored session must know the name.
	s.add(&st, e, now, n.Type == transcript.NicknameUpdated || s.opts.SaveNotices.Has(n.Type))
	return st, nil
}

// checkAttributes returns ErrInvalid when a party's attributes name the
// server's GCTI_SYSTEM node, which no party may forge.
func checkAttributes(attrs map[string]string) error {
	if _, ok := attrs[transcript.SystemAttributes]; ok {
		return fmt.Errorf("%w: eventAttributes %s is the server's", ErrInvalid, transcript.SystemAttributes)
	}
	return nil
}

// FileNotice adds the FileUploaded or FileDeleted notice of a present party,
// visible to all, once the chat server has stored or deleted the file;
// userData describes the file. Whether it is stored follows
// Options.SaveNotices. Only the chat server calls it, after the file
// operation succeeded: a party's own notices go through Notify, which
// refuses these types. It returns ErrInvalid for any other type.
func (s *Session) FileNotice(now time.Time, from string, t transcript.EventType, userData map[string]string) (Step, error) {
	if t != transcript.FileUploaded && t != transcript.FileDeleted {
		return Step{}, fmt.Errorf("%w: %q is not a file notice", ErrInvalid, t)
	}
	if _, err := s.active(from); err != nil {
		return Step{}, err
	}
	var st Step
	e := transcript.Event{Type: t, PartyID: from, Visibility: transcript.VisAll, UserData: maps.Clone(userData)}
	s.add(&st, e, now, s.opts.SaveNotices.Has(t))
	return st, nil
}

// SystemNotice adds a stored notice from the server itself (an inactivity
// alert, a save failure notice), visible to all.
func (s *Session) SystemNotice(now time.Time, t transcript.EventType, text string) (Step, error) {
	if s.closed {
		return Step{}, ErrClosed
	}
	var st Step
	s.add(&st, transcript.Event{Type: t, Visibility: transcript.VisAll, Text: text, NoticeType: "SYSTEM"}, now, true)
	return st, nil
}

// Announce adds a notice from the server for every party (visibility ALL),
// delivered but not stored: the transcript-auto-save = 2 notices `save` and
// `ucs-save-fail` that desktops and customers' clients may process.
func (s *Session) Announce(now time.Time, noticeType string) Step {
	var st Step
	if !s.closed {
		s.add(&st, transcript.Event{Type: transcript.Notice, Visibility: transcript.VisAll, Text: noticeType, NoticeType: noticeType}, now, false)
	}
	return st
}

// Inform adds a notice from the server for every party (visibility ALL),
// delivered but not stored, like a typing notice: a queue position. It is
// not session activity.
func (s *Session) Inform(now time.Time, noticeType, text string, userData map[string]string) Step {
	var st Step
	if !s.closed {
		s.add(&st, transcript.Event{Type: transcript.Notice, Visibility: transcript.VisAll, Text: text,
			NoticeType: noticeType, UserData: maps.Clone(userData)}, now, false)
	}
	return st
}

// UpdateData merges user data sent by a present party into the session's.
func (s *Session) UpdateData(from string, data map[string]string) error {
	if _, err := s.active(from); err != nil {
		return err
	}
	if s.userData == nil {
		s.userData = make(map[string]string, len(data))
	}
	maps.Copy(s.userData, data)
	return nil
}

// Leave removes party who at the request of asker, then applies the
// after-action. A party may always leave itself; only an agent or supervisor
// may remove another party. A non-empty text is sent by the leaving party
// first. The session closes when ForceClose is asked, when CloseIfNoAgents
// leaves no agent, or when nobody remains.
func (s *Session) Leave(now time.Time, who, asker string, action AfterAction, text string) (Step, error) {
	m, err := s.active(who)
	if err != nil {
		return Step{}, err
	}
	a, err := s.active(asker)
	if err != nil {
		return Step{}, err
	}
	if who != asker && a.Type != transcript.Agent && a.Type != transcript.Supervisor {
		return Step{}, fmt.Errorf("%w: only an agent or supervisor removes another party", ErrNotAllowed)
	}
	var st Step
	if text != "" {
		s.add(&st, transcript.Event{Type: transcript.Message, PartyID: who, Visibility: m.Visibility, Text: text}, now, true)
	}
	s.depart(&st, now, m, asker, leaveReason(m, who == asker, action))
	if action == ForceClose || (action == CloseIfNoAgents && !s.hasPresent(transcript.Agent)) {
		s.closeAll(&st, now, asker, transcript.ReasonRemoved)
	}
	s.closeIfEmpty(&st, now)
	return st, nil
}

func leaveReason(m *member, self bool, action AfterAction) transcript.Reason {
	switch {
	case !self:
		return transcript.ReasonRemoved
	case action == ForceClose:
		return transcript.ReasonForceClose
	case m.Type == transcript.Client:
		return transcript.ReasonLogout
	}
	return transcript.ReasonNone
}

// Remove takes a party out on the server's behalf with a reason code
// (disconnect, bad secure key, inactivity). The session closes when nobody
// remains.
func (s *Session) Remove(now time.Time, who string, reason transcript.Reason) (Step, error) {
	m, err := s.active(who)
	if err != nil {
		return Step{}, err
	}
	var st Step
	s.depart(&st, now, m, who, reason)
	s.closeIfEmpty(&st, now)
	return st, nil
}

// Close ends the session on the server's behalf: every present party leaves
// with the reason given (inactivity, a store failure, a stopped interaction).
func (s *Session) Close(now time.Time, reason transcript.Reason) (Step, error) {
	if s.closed {
		return Step{}, ErrClosed
	}
	var st Step
	s.closeAll(&st, now, "", reason)
	return st, nil
}

func (s *Session) depart(st *Step, now time.Time, m *member, asker string, reason transcript.Reason) {
	m.present = false
	s.add(st, transcript.Event{Type: transcript.ParticipantLeft, PartyID: m.ID, Visibility: m.Visibility, Reason: reason, AskerID: asker}, now, true)
}

func (s *Session) closeAll(st *Step, now time.Time, asker string, reason transcript.Reason) {
	for _, m := range s.members {
		if m.present {
			s.depart(st, now, m, cmp.Or(asker, m.ID), reason)
		}
	}
	s.finish(st, now)
}

func (s *Session) closeIfEmpty(st *Step, now time.Time) {
	if !s.closed && !s.anyPresent() {
		s.finish(st, now)
	}
}

func (s *Session) finish(st *Step, now time.Time) {
	s.idle.stop()
	s.async.stop()
	s.closed = true
	s.ended = stamp(now)
	st.Closed = true
}

// add numbers e, records it and appends it to the step.
func (s *Session) add(st *Step, e transcript.Event, now time.Time, stored bool) {
	e.Index = s.NextPosition()
	e.Time = stamp(now)
	s.log = append(s.log, entry{Event: e, stored: stored})
	s.size += eventSize(e)
	st.Events = append(st.Events, e)
	switch {
	case !stored:
	case len(st.Store) == len(st.Events)-1:
		// Every event of the step is stored: Store is Events, not a copy.
		// Its capacity ends at its length, so that appending to one never
		// writes into the other.
		st.Store = st.Events[:len(st.Events):len(st.Events)]
	default:
		st.Store = append(st.Store, e)
	}
	s.observe(st, e, e.Time)
}

// active returns a present party of an open session.
func (s *Session) active(id string) (*member, error) {
	if s.closed {
		return nil, ErrClosed
	}
	m, ok := s.byID[id]
	switch {
	case !ok:
		return nil, ErrNoSuchParty
	case !m.present:
		return nil, ErrPartyLeft
	}
	return m, nil
}

// visibilityFor resolves the visibility of what m sends: its join visibility
// by default; a client can only send to all; nobody sends wider than it sees.
func visibilityFor(m *member, v transcript.Visibility) (transcript.Visibility, error) {
	switch {
	case v == "":
		return m.Visibility, nil
	case !v.Valid():
		return "", fmt.Errorf("%w: visibility %q", ErrInvalid, v)
	case m.Type == transcript.Client && v != transcript.VisAll:
		return "", fmt.Errorf("%w: a client sends with visibility ALL only", ErrNotAllowed)
	case !m.Type.Sees(v):
		return "", fmt.Errorf("%w: visibility %s is not visible to the sender", ErrNotAllowed, v)
	}
	return v, nil
}

func (s *Session) hasPresent(t transcript.PartyType) bool {
	for _, m := range s.members {
		if m.present && m.Type == t {
			return true
		}
	}
	return false
}

// anyPresent reports whether a party that keeps the chat open is present:
// anyone but an ESP party.
func (s *Session) anyPresent() bool {
	for _, m := range s.members {
		if m.present && m.Protocol != ESPProtocol {
			return true
		}
	}
	return false
}

// ReadPositionKey is the userData key of a ReadReceipt event: the position
// of the last event the client has read.
const ReadPositionKey = "transcriptPosition"

// readReceipt adds a client's ReadReceipt: the client m has read the
// transcript up to position (an existing event's index). The agents and
// supervisors see it (visibility INT); it is never stored, and it is no
// activity for the inactivity timers. A position outside the transcript is
// ErrInvalid; a party other than a client may not send one (ErrNotAllowed).
func (s *Session) readReceipt(now time.Time, m *member, position string) (Step, error) {
	if m.Type != transcript.Client {
		return Step{}, fmt.Errorf("%w: only a client sends read receipts", ErrNotAllowed)
	}
	n, err := strconv.Atoi(position)
	if err != nil || n < 1 || n >= s.NextPosition() {
		return Step{}, fmt.Errorf("%w: read position %q is not in the transcript", ErrInvalid, position)
	}
	var st Step
	s.add(&st, transcript.Event{Type: transcript.ReadReceipt, PartyID: m.ID, Visibility: transcript.VisInt,
		UserData: map[string]string{ReadPositionKey: strconv.Itoa(n)}}, now, false)
	return st, nil
}

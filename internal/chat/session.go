package chat

import (
	"fmt"
	"maps"
	"sort"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// AfterAction says what happens to a session when a party leaves it, with the
// Genesys names and values.
type AfterAction int

const (
	// KeepAlive leaves the session running with whoever remains.
	KeepAlive AfterAction = 0
	// CloseIfNoAgents closes the session when no agent remains in it.
	CloseIfNoAgents AfterAction = 1
	// ForceClose closes the session for everyone.
	ForceClose AfterAction = 2
)

// ParseAfterAction reads an after-action by its Genesys name; the empty
// string means CloseIfNoAgents, the usual default of agent desktops.
func ParseAfterAction(name string) (AfterAction, error) {
	switch name {
	case "KeepAlive":
		return KeepAlive, nil
	case "", "CloseIfNoAgents":
		return CloseIfNoAgents, nil
	case "ForceClose":
		return ForceClose, nil
	}
	return 0, fmt.Errorf("%w: after-action %q (want KeepAlive, CloseIfNoAgents or ForceClose)", ErrInvalid, name)
}

// Options are the rules a session is created with.
type Options struct {
	// Async marks an async-mode session (userData GCTI_Chat_AsyncMode=true).
	Async bool
	// SaveNotices is transcript-save-notices: the notices kept in the
	// transcript. Other notices are delivered but not stored.
	SaveNotices NoticeSet
	// UserData is the session's initial user data; the session keeps a copy.
	UserData map[string]string
	// Rules are the session's timeouts.
	Rules Rules
}

// Step is what one operation produced.
type Step struct {
	// Events are the new events in index order, for delivery to every party
	// that may see them.
	Events []transcript.Event
	// Store is the subset of Events that belongs in the transcript.
	Store []transcript.Event
	// Closed is true when the session ended with this operation.
	Closed bool
	// Properties are interaction properties the session changed (the async
	// status and check time), to publish to the interaction server.
	Properties map[string]string
}

type entry struct {
	transcript.Event
	stored bool
}

type member struct {
	transcript.Party
	present bool
	// Protocol timeout of a client: when it expires, and whether its events
	// are pushed (flex-push-timeout) with a liveness check outstanding.
	protocolAt     time.Time
	push, checking bool
	rate           bucket // Limits.PartyRate
}

// Session is one live chat session. See the package doc for its contract.
type Session struct {
	id       string
	opts     Options
	created  time.Time
	ended    time.Time
	closed   bool
	members  []*member // in join order
	byID     map[string]*member
	log      []entry // every event, in index order; a restored session has gaps where unstored events were
	size     int     // the events' eventSize, for Limits.TranscriptSize
	userData map[string]string
	props    map[string]string
	idle     countdown // [inactivity-control]
	async    countdown // async-idle-alert and async-idle-close
	// normalising is set while Restore adds its leaves and joins, which
	// are not activity.
	normalising bool
}

// New returns an empty, open session created at now.
func New(id string, now time.Time, opts Options) *Session {
	s := &Session{
		id:       id,
		opts:     opts,
		created:  stamp(now),
		byID:     make(map[string]*member),
		userData: maps.Clone(opts.UserData),
	}
	if opts.Async {
		s.async.arm(s.created, opts.Rules.AsyncAlert, stageAlert)
	}
	return s
}

// stamp is the transcript's notion of time: UTC, whole milliseconds.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// ID returns the session id (also the interaction id).
func (s *Session) ID() string { return s.id }

// Async reports whether the session is in async mode.
func (s *Session) Async() bool { return s.opts.Async }

// Closed reports whether the session has ended.
func (s *Session) Closed() bool { return s.closed }

// CreatedAt returns when the session started.
func (s *Session) CreatedAt() time.Time { return s.created }

// EndedAt returns when the session ended (zero while it is open).
func (s *Session) EndedAt() time.Time { return s.ended }

// UserData returns a copy of the session's user data.
func (s *Session) UserData() map[string]string { return maps.Clone(s.userData) }

// NextPosition is the transcript position of the next event: the
// nextPosition a client uses as its next transcriptPosition.
func (s *Session) NextPosition() int {
	if len(s.log) == 0 {
		return 1
	}
	return s.log[len(s.log)-1].Index + 1
}

// Party returns a party by id, present or not, or ErrNoSuchParty.
func (s *Session) Party(id string) (transcript.Party, bool, error) {
	m, ok := s.byID[id]
	if !ok {
		return transcript.Party{}, false, ErrNoSuchParty
	}
	return m.Party, m.present, nil
}

// Present returns the parties currently in the session, in join order.
func (s *Session) Present() []transcript.Party {
	var ps []transcript.Party
	for _, m := range s.members {
		if m.present {
			ps = append(ps, m.Party)
		}
	}
	return ps
}

// Visible returns the events from transcript position from (1 = all) that a
// party of type viewer may see. Positions count every event, so a viewer that
// asks again from NextPosition never sees an event twice nor misses one.
func (s *Session) Visible(from int, viewer transcript.PartyType) []transcript.Event {
	from = max(from, 1)
	var out []transcript.Event
	first := sort.Search(len(s.log), func(i int) bool { return s.log[i].Index >= from })
	for _, e := range s.log[first:] {
		if viewer.Sees(e.Visibility) {
			out = append(out, e.Event)
		}
	}
	return out
}

// Stored returns the events that belong in the transcript, in index order,
// or nil when there are none.
func (s *Session) Stored() []transcript.Event {
	n := 0
	for _, e := range s.log {
		if e.stored {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]transcript.Event, 0, n) // one allocation: a chat's final save copies them all
	for _, e := range s.log {
		if e.stored {
			out = append(out, e.Event)
		}
	}
	return out
}

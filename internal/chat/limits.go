package chat

import (
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// Limits bound what the parties of one session may add to it, so that no
// client can make a session hold unbounded memory or flood its agents. A
// zero field is no limit. Events the server adds (joins, leaves, idle and
// file notices) are never refused: a full session can still end.
type Limits struct {
	// MessageLength bounds the text of a party's message or notice, in bytes.
	MessageLength int
	// TranscriptSize bounds the session's events, counted as the bytes of
	// their texts, user data and attributes.
	TranscriptSize int
	// Events bounds the number of the session's events.
	Events int
	// PartyRate is the messages and notices one client party may send per
	// second on average, and PartyBurst how many it may send at once (at
	// least 1). Agents, supervisors and bots, admitted by the chat server's
	// grants and keys, are not rated.
	PartyRate  float64
	PartyBurst int
}

// Errors of Limits.
var (
	// ErrTooLong is returned for a message or notice whose text exceeds
	// Limits.MessageLength.
	ErrTooLong = errors.New("chat: message too long")
	// ErrTranscriptFull is returned for a party's event once the session has
	// reached Limits.TranscriptSize or Limits.Events.
	ErrTranscriptFull = errors.New("chat: transcript full")
	// ErrTooFast is returned for a client's message or notice past its
	// Limits.PartyRate.
	ErrTooFast = errors.New("chat: too many messages")
)

// bucket is a party's token bucket for Limits.PartyRate.
type bucket struct {
	tokens float64
	at     time.Time // when tokens was last refilled
}

// admit checks that the party m may add an event with text of size bytes
// at now, and takes one of its tokens.
func (s *Session) admit(now time.Time, m *member, text string, size int) error {
	l := s.opts.Rules.Limits
	switch {
	case l.MessageLength > 0 && len(text) > l.MessageLength:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrTooLong, len(text), l.MessageLength)
	case l.Events > 0 && len(s.log) >= l.Events:
		return fmt.Errorf("%w: %d events", ErrTranscriptFull, l.Events)
	case l.TranscriptSize > 0 && s.size+size > l.TranscriptSize:
		return fmt.Errorf("%w: %d bytes", ErrTranscriptFull, l.TranscriptSize)
	case l.PartyRate > 0 && m.Type == transcript.Client && !m.rate.take(now, l.PartyRate, max(l.PartyBurst, 1)):
		return fmt.Errorf("%w: at most %g per second", ErrTooFast, l.PartyRate)
	}
	return nil
}

// take refills the bucket for the time since its last use and takes a
// token, reporting whether there was one.
func (b *bucket) take(now time.Time, rate float64, burst int) bool {
	if b.at.IsZero() {
		b.tokens = float64(burst)
	} else if d := now.Sub(b.at); d > 0 {
		b.tokens = min(float64(burst), b.tokens+d.Seconds()*rate)
	}
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// eventSize is what an event counts toward Limits.TranscriptSize.
func eventSize(e transcript.Event) int {
	n := len(e.Text) + len(e.MessageType) + len(e.NoticeType)
	for k, v := range e.UserData {
		n += len(k) + len(v)
	}
	for k, v := range e.EventAttributes {
		n += len(k) + len(v)
	}
	return n
}

// sizeOf is what a party's event of text, user data and attributes would
// count toward Limits.TranscriptSize.
func sizeOf(text string, maps ...map[string]string) int {
	return eventSize(transcript.Event{Text: text, UserData: maps[0], EventAttributes: maps[1]})
}

package chat

import (
	"fmt"

	"github.com/parley-chat/parley/internal/transcript"
)

// NoticeSet is a set of notice event types. It is what the Genesys options
// `include-notices`, `async-idle-notices` and `transcript-save-notices` name
// with the levels none, major, major2, typing and all.
type NoticeSet uint16

func bit(t transcript.EventType) NoticeSet {
	switch t {
	case transcript.PushURL:
		return 1 << 0
	case transcript.FileUploaded:
		return 1 << 1
	case transcript.FileDeleted:
		return 1 << 2
	case transcript.CustomNotice:
		return 1 << 3
	case transcript.TypingStarted:
		return 1 << 4
	case transcript.TypingStopped:
		return 1 << 5
	case transcript.NicknameUpdated:
		return 1 << 6
	}
	return 0
}

func setOf(types ...transcript.EventType) NoticeSet {
	var s NoticeSet
	for _, t := range types {
		s |= bit(t)
	}
	return s
}

var (
	major  = setOf(transcript.PushURL, transcript.FileUploaded, transcript.FileDeleted)
	major2 = major | setOf(transcript.CustomNotice)
	typing = major | setOf(transcript.TypingStarted)
	all    = major2 | setOf(transcript.TypingStarted, transcript.TypingStopped, transcript.NicknameUpdated)
)

// ParseNoticeLevel returns the set a level names: "none"; "major" (push URL,
// file uploaded, file deleted); "major2" (major and custom notices); "typing"
// (major and typing started); "all" (major2, typing started and stopped,
// nickname updates).
func ParseNoticeLevel(level string) (NoticeSet, error) {
	switch level {
	case "none":
		return 0, nil
	case "major":
		return major, nil
	case "major2":
		return major2, nil
	case "typing":
		return typing, nil
	case "all":
		return all, nil
	}
	return 0, fmt.Errorf("%w: notice level %q (want none, major, major2, typing or all)", ErrInvalid, level)
}

// Has reports whether events of type t are in the set. Types that are not
// notices (messages, joins, leaves, system notices) are never in a set.
func (s NoticeSet) Has(t transcript.EventType) bool {
	b := bit(t)
	return b != 0 && s&b != 0
}

// partyMayNotify returns nil when a party may send a notice of type t
// itself. File notices, joins, leaves, system and idle notices are the chat
// server's alone (ErrNotAllowed); a message is not a notice, and an unknown
// type is no event at all (ErrInvalid).
func partyMayNotify(t transcript.EventType) error {
	switch t {
	case transcript.TypingStarted, transcript.TypingStopped, transcript.PushURL,
		transcript.CustomNotice, transcript.NicknameUpdated:
		return nil
	case transcript.FileUploaded, transcript.FileDeleted,
		transcript.ParticipantJoined, transcript.ParticipantLeft,
		transcript.Notice, transcript.IdleAlert, transcript.IdleClose:
		return fmt.Errorf("%w: %s notices are added by the chat server only", ErrNotAllowed, t)
	case transcript.Message:
		return fmt.Errorf("%w: a message is not a notice", ErrInvalid)
	}
	return fmt.Errorf("%w: notice type %q", ErrInvalid, t)
}

package chat

import "errors"

// Errors returned by Session operations. The chat server maps each to a wire
// error code; none of them reveals anything about the session.
var (
	// ErrClosed is returned for any change to a session that has ended.
	ErrClosed = errors.New("chat: session closed")
	// ErrNoSuchParty is returned for a party id the session never had.
	ErrNoSuchParty = errors.New("chat: no such party in the session")
	// ErrPartyLeft is returned for a request of a party that has left or was removed.
	ErrPartyLeft = errors.New("chat: party has left the session")
	// ErrDuplicateParty is returned by Join for a party id already in the session.
	ErrDuplicateParty = errors.New("chat: party already in the session")
	// ErrNotAllowed is returned when the party may not do this (a client
	// removing someone, a second client joining, a client using INT visibility).
	ErrNotAllowed = errors.New("chat: not allowed for this party")
	// ErrInvalid is returned for a malformed request: an empty message, an
	// unknown notice type, visibility or party type.
	ErrInvalid = errors.New("chat: invalid request")
)

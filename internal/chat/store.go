package chat

import "context"

// AvailabilityStore keeps whether an operator disabled a chat server (it then
// takes no new chats), so that a disabled server stays disabled across a
// restart. Servers are named by their application name. Implementations are
// safe for concurrent use.
type AvailabilityStore interface {
	// Disabled reports whether the chat server named server is disabled. A
	// server never recorded is enabled: false and a nil error. It returns an
	// error only when the store cannot be read.
	Disabled(ctx context.Context, server string) (bool, error)
	// SetDisabled records durably whether the chat server named server is
	// disabled, replacing any earlier value; once it returns nil, Disabled
	// (of this or any other process on the same database) returns the new
	// value. Recording the value already held is not an error. On an error
	// the recorded value is unchanged.
	SetDisabled(ctx context.Context, server string, disabled bool) error
}

// Package chat owns the rules of a live chat session: who is in it, what each
// party may do and when, the order and visibility of its events, transcript
// positions, and how it ends.
//
// A Session is a deterministic state machine. It does no I/O, starts no
// goroutines and never reads the clock: every operation takes the current
// time, and returns a Step saying which new events to deliver and which of
// them to store. A Session is not safe for concurrent use; its owner (the chat
// server) serialises the operations of one session.
//
// The package also declares AvailabilityStore, the store of a chat server's
// operator-set disabled flag, so that the backends under internal/store and
// their conformance suite can implement and test it.
package chat

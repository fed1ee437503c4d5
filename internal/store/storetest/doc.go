// Package storetest holds the conformance suites every store backend must
// pass: TestTranscriptStore for transcript.Store and TestContactStore for
// contact.Store. A backend's tests call them with a function that opens a
// fresh, empty store.
package storetest

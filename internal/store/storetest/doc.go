// Package storetest holds the conformance suites every store backend must
// pass: TestTranscriptStore for transcript.Store, TestContactStore for
// contact.Store and TestAvailabilityStore for chat.AvailabilityStore, called
// with a function that opens a fresh, empty store;
// TestReopenKeepsData and TestCloseIsIdempotentAndRefuses, called with one
// that opens the same database again; and the append benchmarks both
// backends report (BenchAppend, BenchAppendSequential).
package storetest

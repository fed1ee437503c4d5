package postgres

import (
	"testing"

	"github.com/parley-chat/parley/internal/store/storetest"
)

// BenchmarkAppend measures group-committed appends; see storetest.BenchAppend.
func BenchmarkAppend(b *testing.B) {
	storetest.BenchAppend(b, openDB(b, testDSN(b)).Transcripts())
}

// BenchmarkAppendSequential measures one writer alone: one commit per event.
func BenchmarkAppendSequential(b *testing.B) {
	storetest.BenchAppendSequential(b, openDB(b, testDSN(b)).Transcripts())
}

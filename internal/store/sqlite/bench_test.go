package sqlite

import (
	"net/url"
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley/internal/store/storetest"
)

// BenchmarkAppend measures group-committed appends with both synchronous
// settings, to show what FULL costs over NORMAL.
func BenchmarkAppend(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		b.Run("sync="+sync, func(b *testing.B) { storetest.BenchAppend(b, openBench(b, sync)) })
	}
}

// BenchmarkAppendSequential measures one writer alone, with both settings.
func BenchmarkAppendSequential(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		b.Run("sync="+sync, func(b *testing.B) { storetest.BenchAppendSequential(b, openBench(b, sync)) })
	}
}

func openBench(b *testing.B, sync string) *TranscriptStore {
	path := filepath.Join(b.TempDir(), "bench.db")
	return openDB(b, (&url.URL{Scheme: "file", Path: path}).String()+"?_synchronous="+sync).Transcripts()
}

package postgres

import (
	"testing"

	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/transcript"
)

func TestFileStore(t *testing.T) {
	storetest.TestFileStore(t, func(t *testing.T) transcript.FileStore {
		return openDB(t, testDSN(t)).Files()
	})
}

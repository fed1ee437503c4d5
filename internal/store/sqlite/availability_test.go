package sqlite

import (
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store/storetest"
)

func TestAvailabilityStore(t *testing.T) {
	storetest.TestAvailabilityStore(t, func(t *testing.T) chat.AvailabilityStore {
		return openDB(t, tempPath(t)).Availability()
	})
}

func TestPairStore(t *testing.T) {
	storetest.TestPairStore(t, func(t *testing.T) chat.PairStore {
		return openDB(t, tempPath(t)).Pairs()
	})
}

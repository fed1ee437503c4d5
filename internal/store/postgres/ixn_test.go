package postgres

import (
	"testing"

	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/store/storetest"
)

func TestIxnStore(t *testing.T) {
	storetest.TestIxnStore(t, func(t *testing.T) ixn.Store {
		return openDB(t, testDSN(t)).Interactions()
	})
}

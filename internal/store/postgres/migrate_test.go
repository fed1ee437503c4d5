package postgres

import (
	"testing"

	"github.com/parley-chat/parley/internal/store/storetest"
)

// TestMigrationsAdditive holds the migrations since the previous release
// (its last one, 0005; move it forward at each release) to what a rolling
// upgrade needs.
func TestMigrationsAdditive(t *testing.T) { storetest.MigrationsAdditive(t, migrations, 5) }

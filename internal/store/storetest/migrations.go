package storetest

import (
	"io/fs"
	"testing"

	"github.com/parley-chat/parley/internal/store/storemigrate"
)

// MigrationsAdditive checks a store's migrations (the dir migrations of
// fsys): those after previousRelease, the last migration of the previous
// release, must leave that release able to run beside this one on the same
// database (a rolling upgrade, docs/ha.md).
func MigrationsAdditive(t *testing.T, fsys fs.FS, previousRelease int) {
	t.Helper()
	ms, err := storemigrate.Load(fsys, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if err := storemigrate.Additive(ms, previousRelease); err != nil {
		t.Error(err)
	}
	if ms[len(ms)-1].Version < previousRelease {
		t.Errorf("last migration %d is before the previous release's %d", ms[len(ms)-1].Version, previousRelease)
	}
}

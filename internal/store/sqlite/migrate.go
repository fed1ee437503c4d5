package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/store/storemigrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrate applies the migrations not yet recorded in schema_migrations, all
// in one immediate transaction: a second process opening the file waits for
// the first to finish and then finds nothing left to do.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := storemigrate.Load(migrations, "migrations")
	if err != nil {
		return err
	}
	return inTx(ctx, db, func(tx *sql.Tx) error {
		const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`
		if _, err := tx.ExecContext(ctx, create); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		for _, m := range ms {
			if err := apply(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// apply runs m unless schema_migrations already records it.
func apply(ctx context.Context, tx *sql.Tx, m storemigrate.Migration) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n)
	if err != nil || n > 0 {
		return wrapMigration(m, err)
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return wrapMigration(m, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UnixMilli())
	return wrapMigration(m, err)
}

func wrapMigration(m storemigrate.Migration, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("migrate %s: %w", m.Name, err)
}

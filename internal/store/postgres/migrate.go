package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-chat/parley/internal/store/storemigrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrate applies the migrations not yet recorded in schema_migrations in
// one transaction. The advisory lock, keyed by schema, makes a second process
// wait and then find nothing left to do; without it two concurrent
// CREATE TABLE IF NOT EXISTS could still collide.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := storemigrate.Load(migrations, "migrations")
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		const lock = `SELECT pg_advisory_xact_lock(hashtext('parley.migrate.' || coalesce(current_schema(), '')))`
		if _, err := tx.Exec(ctx, lock); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
			version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`
		if _, err := tx.Exec(ctx, create); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		for _, m := range ms {
			if err := apply(ctx, tx, m); err != nil {
				return fmt.Errorf("migrate %s: %w", m.Name, err)
			}
		}
		return nil
	})
}

// apply runs m unless schema_migrations already records it.
func apply(ctx context.Context, tx pgx.Tx, m storemigrate.Migration) error {
	var done bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&done)
	if err != nil || done {
		return err
	}
	if _, err := tx.Exec(ctx, m.SQL); err != nil { // no arguments: simple protocol, several statements allowed
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
	return err
}

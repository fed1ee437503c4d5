package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-chat/parley/internal/chat"
)

// AvailabilityStore keeps whether each chat server is disabled. It is safe
// for concurrent use.
type AvailabilityStore struct {
	pool *pgxpool.Pool
}

// Availability returns the store of the chat servers' disabled flags.
func (db *DB) Availability() *AvailabilityStore { return &AvailabilityStore{pool: db.pool} }

// Disabled reports whether the chat server named server is disabled; a
// server never recorded is enabled.
func (s *AvailabilityStore) Disabled(ctx context.Context, server string) (bool, error) {
	var disabled bool
	err := s.pool.QueryRow(ctx, `SELECT disabled FROM chat_servers WHERE name = $1`, server).Scan(&disabled)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres: chat server %s disabled: %w", server, err)
	}
	return disabled, nil
}

// SetDisabled records durably whether the chat server named server is
// disabled.
func (s *AvailabilityStore) SetDisabled(ctx context.Context, server string, disabled bool) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO chat_servers (name, disabled, updated_at) VALUES ($1, $2, now())
		ON CONFLICT (name) DO UPDATE SET disabled = excluded.disabled, updated_at = excluded.updated_at`,
		server, disabled)
	if err != nil {
		return fmt.Errorf("postgres: set chat server %s disabled: %w", server, err)
	}
	return nil
}

var _ chat.AvailabilityStore = (*AvailabilityStore)(nil)

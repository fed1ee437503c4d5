package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// AvailabilityStore keeps whether each chat server is disabled. It is safe
// for concurrent use.
type AvailabilityStore struct {
	db *sql.DB
	w  *writer
}

// Availability returns the store of the chat servers' disabled flags.
func (db *DB) Availability() *AvailabilityStore { return &AvailabilityStore{db: db.sql, w: db.w} }

// Disabled reports whether the chat server named server is disabled; a
// server never recorded is enabled.
func (s *AvailabilityStore) Disabled(ctx context.Context, server string) (bool, error) {
	var disabled bool
	err := s.db.QueryRowContext(ctx, `SELECT disabled FROM chat_servers WHERE name = ?`, server).Scan(&disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: chat server %s disabled: %w", server, err)
	}
	return disabled, nil
}

// SetDisabled records durably whether the chat server named server is
// disabled.
func (s *AvailabilityStore) SetDisabled(ctx context.Context, server string, disabled bool) error {
	err := s.w.do(ctx, func(ctx context.Context, tx *batchTx) error {
		_, err := tx.exec(ctx, `INSERT INTO chat_servers (name, disabled, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET disabled = excluded.disabled, updated_at = excluded.updated_at`,
			server, disabled, time.Now().UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: set chat server %s disabled: %w", server, err)
	}
	return nil
}

var _ chat.AvailabilityStore = (*AvailabilityStore)(nil)

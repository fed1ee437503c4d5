package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// PairStore keeps which member of each warm-standby pair of chat servers is
// the primary. It is safe for concurrent use.
type PairStore struct {
	db *sql.DB
	w  *writer
}

// Pairs returns the store of the chat server pairs' primaries.
func (db *DB) Pairs() *PairStore { return &PairStore{db: db.sql, w: db.w} }

// Primary returns the pair's recorded primary and epoch; "", 0 for a pair
// never recorded.
func (s *PairStore) Primary(ctx context.Context, pair string) (string, int64, error) {
	var member string
	var epoch int64
	err := s.db.QueryRowContext(ctx, `SELECT primary_member, epoch FROM chat_pairs WHERE pair = ?`, pair).Scan(&member, &epoch)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("sqlite: primary of chat pair %s: %w", pair, err)
	}
	return member, epoch, nil
}

// TakePrimary makes member the pair's primary at epoch+1 if the pair is
// still at epoch, in one statement.
func (s *PairStore) TakePrimary(ctx context.Context, pair, member string, epoch int64) (int64, error) {
	var next int64
	err := s.w.do(ctx, func(ctx context.Context, tx *batchTx) error {
		return tx.queryRow(ctx, `INSERT INTO chat_pairs (pair, primary_member, epoch, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (pair) DO UPDATE SET primary_member = excluded.primary_member, epoch = chat_pairs.epoch + 1,
				updated_at = excluded.updated_at
			WHERE chat_pairs.epoch = ? RETURNING epoch`, pair, member, epoch+1, time.Now().UnixMilli(), epoch).Scan(&next)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return 0, chat.ErrPairTaken
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: take the primary of chat pair %s: %w", pair, err)
	}
	return next, nil
}

var _ chat.PairStore = (*PairStore)(nil)

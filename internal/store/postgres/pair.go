package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-chat/parley/internal/chat"
)

// PairStore keeps which member of each warm-standby pair of chat servers is
// the primary. It is safe for concurrent use.
type PairStore struct {
	pool *pgxpool.Pool
}

// Pairs returns the store of the chat server pairs' primaries.
func (db *DB) Pairs() *PairStore { return &PairStore{pool: db.pool} }

// Primary returns the pair's recorded primary and epoch; "", 0 for a pair
// never recorded.
func (s *PairStore) Primary(ctx context.Context, pair string) (string, int64, error) {
	var member string
	var epoch int64
	err := s.pool.QueryRow(ctx, `SELECT primary_member, epoch FROM chat_pairs WHERE pair = $1`, pair).Scan(&member, &epoch)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("postgres: primary of chat pair %s: %w", pair, err)
	}
	return member, epoch, nil
}

// TakePrimary makes member the pair's primary at epoch+1 if the pair is
// still at epoch, in one statement.
func (s *PairStore) TakePrimary(ctx context.Context, pair, member string, epoch int64) (int64, error) {
	var next int64
	err := s.pool.QueryRow(ctx, `INSERT INTO chat_pairs (pair, primary_member, epoch, updated_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (pair) DO UPDATE SET primary_member = excluded.primary_member, epoch = chat_pairs.epoch + 1,
			updated_at = excluded.updated_at
		WHERE chat_pairs.epoch = $4 RETURNING epoch`, pair, member, epoch+1, epoch).Scan(&next)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, chat.ErrPairTaken
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: take the primary of chat pair %s: %w", pair, err)
	}
	return next, nil
}

var _ chat.PairStore = (*PairStore)(nil)

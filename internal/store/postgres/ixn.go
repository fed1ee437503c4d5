package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-chat/parley/internal/ixn"
)

// IxnStore is the interaction server's store: live interactions and the
// reporting event log. It is safe for concurrent use.
type IxnStore struct {
	pool  *pgxpool.Pool
	fence atomic.Uint32 // the backend pid that must hold the pair's lock; 0: none
}

// ErrNotPrimary is returned by Commit once the database session FenceTo
// named no longer holds an advisory lock: the backup may already serve.
var ErrNotPrimary = errors.New("postgres: the primary lock is no longer held; nothing was written")

// Interactions returns the interaction server's store.
func (db *DB) Interactions() *IxnStore { return &IxnStore{pool: db.pool} }

// FenceTo makes every later Commit check, in its transaction, that the
// database session pid (the backend holding a primary/backup pair's
// advisory lock) still holds it, and write nothing otherwise. The lock's own
// liveness check runs only every second or so; this closes that window for
// writes, down to the time between the check and the commit.
func (s *IxnStore) FenceTo(pid uint32) { s.fence.Store(pid) }

// Commit writes b in one transaction.
func (s *IxnStore) Commit(ctx context.Context, b ixn.Batch) error {
	if b.Empty() {
		return nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.checkFence(ctx, tx); err != nil {
			return err
		}
		for _, in := range b.Saves {
			if err := saveIxn(ctx, tx, in); err != nil {
				return err
			}
		}
		if len(b.Deletes) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM ixn_interactions WHERE id = ANY($1)`, b.Deletes); err != nil {
				return err
			}
		}
		return appendEvents(ctx, tx, b.Events)
	})
	if err != nil {
		return fmt.Errorf("postgres: commit interactions: %w", err)
	}
	return nil
}

// checkFence refuses the transaction unless the fenced session holds its lock.
func (s *IxnStore) checkFence(ctx context.Context, tx pgx.Tx) error {
	pid := s.fence.Load()
	if pid == 0 {
		return nil
	}
	var held bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $1)`,
		int32(pid)).Scan(&held)
	switch {
	case err != nil:
		return err
	case !held:
		return ErrNotPrimary
	}
	return nil
}

func saveIxn(ctx context.Context, tx pgx.Tx, in ixn.Interaction) error {
	rec, err := json.Marshal(in)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO ixn_interactions (id, state, queue, submitted_at, record)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET state = excluded.state, queue = excluded.queue, record = excluded.record`,
		in.ID, string(in.State), in.Queue, in.SubmittedAt, string(rec))
	return err
}

// appendEvents inserts evs, failing with ixn.ErrDuplicateEvent on an id
// already in the log.
func appendEvents(ctx context.Context, tx pgx.Tx, evs []ixn.LogEvent) error {
	for _, ev := range evs {
		tag, err := tx.Exec(ctx, `INSERT INTO ixn_events (id, time_ms, name, body) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO NOTHING`, ev.ID, ev.Time.UnixMilli(), ev.Name, string(ev.Body))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("event %d: %w", ev.ID, ixn.ErrDuplicateEvent)
		}
	}
	return nil
}

// Interactions returns every stored interaction.
func (s *IxnStore) Interactions(ctx context.Context) ([]ixn.Interaction, error) {
	rows, err := s.pool.Query(ctx, `SELECT record::text FROM ixn_interactions ORDER BY submitted_at, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: load interactions: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ixn.Interaction, error) {
		var rec string
		var in ixn.Interaction
		if err := row.Scan(&rec); err != nil {
			return in, err
		}
		return in, json.Unmarshal([]byte(rec), &in)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: load interactions: %w", err)
	}
	return list, nil
}

// Events returns up to limit events from fromID on.
func (s *IxnStore) Events(ctx context.Context, fromID int64, limit int) ([]ixn.LogEvent, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, time_ms, name, body::text FROM ixn_events WHERE id >= $1 ORDER BY id LIMIT $2`, fromID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read events: %w", err)
	}
	evs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ixn.LogEvent, error) {
		var ev ixn.LogEvent
		var ms int64
		var body string
		err := row.Scan(&ev.ID, &ms, &ev.Name, &body)
		ev.Time, ev.Body = time.UnixMilli(ms).UTC(), json.RawMessage(body)
		return ev, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read events: %w", err)
	}
	return evs, nil
}

// LastEventID returns the highest event id, 0 for an empty log.
func (s *IxnStore) LastEventID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM ixn_events`).Scan(&id); err != nil {
		return 0, fmt.Errorf("postgres: last event id: %w", err)
	}
	return id, nil
}

var _ ixn.Store = (*IxnStore)(nil)

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/ixn"
)

// IxnStore is the interaction server's store: live interactions and the
// reporting event log. It is safe for concurrent use.
type IxnStore struct {
	db *sql.DB
	w  *writer
}

// Interactions returns the interaction server's store.
func (db *DB) Interactions() *IxnStore { return &IxnStore{db: db.sql, w: db.w} }

// Commit writes b in one immediate transaction.
func (s *IxnStore) Commit(ctx context.Context, b ixn.Batch) error {
	if b.Empty() {
		return nil
	}
	err := s.w.do(ctx, func(ctx context.Context, tx *batchTx) error {
		return tx.atomic(ctx, func() error { return commitIxn(ctx, tx, b) })
	})
	if err != nil {
		return fmt.Errorf("sqlite: commit interactions: %w", err)
	}
	return nil
}

// commitIxn writes b's saves, deletes and reporting events; the caller runs
// it under a savepoint, so that a refused event undoes the rest.
func commitIxn(ctx context.Context, tx *batchTx, b ixn.Batch) error {
	for _, in := range b.Saves {
		if err := saveIxn(ctx, tx, in); err != nil {
			return err
		}
	}
	for _, id := range b.Deletes {
		if _, err := tx.exec(ctx, `DELETE FROM ixn_interactions WHERE id = ?`, id); err != nil {
			return err
		}
	}
	return appendLogEvents(ctx, tx, b.Events)
}

func saveIxn(ctx context.Context, tx *batchTx, in ixn.Interaction) error {
	rec, err := json.Marshal(in)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, `INSERT INTO ixn_interactions (id, state, queue, submitted_at, record)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET state = excluded.state, queue = excluded.queue, record = excluded.record`,
		in.ID, string(in.State), in.Queue, in.SubmittedAt.UnixMilli(), string(rec))
	return err
}

// appendLogEvents inserts evs, failing with ixn.ErrDuplicateEvent on an id
// already in the log.
func appendLogEvents(ctx context.Context, tx *batchTx, evs []ixn.LogEvent) error {
	for _, ev := range evs {
		res, err := tx.exec(ctx, `INSERT INTO ixn_events (id, time_ms, name, body) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, ev.ID, ev.Time.UnixMilli(), ev.Name, string(ev.Body))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return fmt.Errorf("event %d: %w", ev.ID, cmpErr(err, ixn.ErrDuplicateEvent))
		}
	}
	return nil
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// Interactions returns every stored interaction.
func (s *IxnStore) Interactions(ctx context.Context) ([]ixn.Interaction, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT record FROM ixn_interactions ORDER BY submitted_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: load interactions: %w", err)
	}
	defer rows.Close()
	var list []ixn.Interaction
	for rows.Next() {
		var rec string
		var in ixn.Interaction
		if err := rows.Scan(&rec); err != nil {
			return nil, fmt.Errorf("sqlite: load interactions: %w", err)
		}
		if err := json.Unmarshal([]byte(rec), &in); err != nil {
			return nil, fmt.Errorf("sqlite: load interactions: record: %w", err)
		}
		list = append(list, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: load interactions: %w", err)
	}
	return list, nil
}

// Events returns up to limit events from fromID on.
func (s *IxnStore) Events(ctx context.Context, fromID int64, limit int) ([]ixn.LogEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, time_ms, name, body FROM ixn_events WHERE id >= ? ORDER BY id LIMIT ?`, fromID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read events: %w", err)
	}
	defer rows.Close()
	var evs []ixn.LogEvent
	for rows.Next() {
		var ev ixn.LogEvent
		var ms int64
		var body string
		if err := rows.Scan(&ev.ID, &ms, &ev.Name, &body); err != nil {
			return nil, fmt.Errorf("sqlite: read events: %w", err)
		}
		ev.Time, ev.Body = time.UnixMilli(ms).UTC(), json.RawMessage(body)
		evs = append(evs, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read events: %w", err)
	}
	return evs, nil
}

// LastEventID returns the highest event id, 0 for an empty log.
func (s *IxnStore) LastEventID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM ixn_events`).Scan(&id); err != nil {
		return 0, fmt.Errorf("sqlite: last event id: %w", err)
	}
	return id, nil
}

var _ ixn.Store = (*IxnStore)(nil)

package postgres

import (
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parley-chat/parley/internal/transcript"
)

// appendReq is one Append, its events already encoded.
type appendReq struct {
	sessionID string
	epoch     int64
	events    []eventRow
}

// eventRow is an event as stored: its index, UTC milliseconds and JSON.
type eventRow struct {
	idx    int64
	timeMS int64
	data   string
}

// appendSQL fences and appends in one statement: it moves last_index only if
// the epoch is current and the first new index follows the last stored one,
// inserts the events only if it did, and returns whether it did with the
// session's epoch and last index as they were before (all parts of a
// statement share its snapshot), which explain a refusal.
const appendSQL = `WITH h AS (
		UPDATE sessions SET last_index = $4 WHERE id = $1 AND epoch = $2 AND last_index < $3 RETURNING id
	), ins AS (
		INSERT INTO events (session_id, idx, time_ms, data)
		SELECT h.id, u.i, u.t, u.d::jsonb FROM h, unnest($5::bigint[], $6::bigint[], $7::text[]) AS u(i, t, d)
	)
	SELECT EXISTS (SELECT 1 FROM h), s.epoch, s.last_index FROM (VALUES (1)) AS one LEFT JOIN sessions s ON s.id = $1`

// fenceSQL is appendSQL for an append of no events: it only checks the epoch.
const fenceSQL = `SELECT s.epoch IS NOT DISTINCT FROM $2::bigint, s.epoch, s.last_index
	FROM (VALUES (1)) AS one LEFT JOIN sessions s ON s.id = $1`

// appendWrite is r as a write of the batch.
func appendWrite(r appendReq) write {
	return func(b *pgx.Batch, res *error) {
		var q *pgx.QueuedQuery
		if len(r.events) == 0 {
			q = b.Queue(fenceSQL, r.sessionID, r.epoch)
		} else {
			idx, ms, data := make([]int64, len(r.events)), make([]int64, len(r.events)), make([]string, len(r.events))
			for i, e := range r.events {
				idx[i], ms[i], data[i] = e.idx, e.timeMS, e.data
			}
			q = b.Queue(appendSQL, r.sessionID, r.epoch, idx[0], idx[len(idx)-1], idx, ms, data)
		}
		q.QueryRow(func(row pgx.Row) error {
			var ok bool
			var epoch, last *int64
			if err := row.Scan(&ok, &epoch, &last); err != nil {
				return err
			}
			if !ok {
				*res = refusal(r, epoch, last)
			}
			return nil
		})
	}
}

// refusal explains why r was not appended, from the session's epoch and last
// index before it (nil: no such session).
func refusal(r appendReq, epoch, last *int64) error {
	var err error
	switch {
	case epoch == nil:
		err = transcript.ErrNotFound
	case *epoch != r.epoch:
		err = fmt.Errorf("epoch %d, stored %d: %w", r.epoch, *epoch, transcript.ErrStaleEpoch)
	default:
		err = fmt.Errorf("index %d, last stored %d: %w", r.events[0].idx, *last, transcript.ErrIndexConflict)
	}
	return fmt.Errorf("postgres: append %s: %w", r.sessionID, err)
}

// createWrite inserts a session header; an existing id is ErrExists.
func createWrite(sess transcript.Session, userData []byte) write {
	return func(b *pgx.Batch, res *error) {
		b.Queue(`INSERT INTO sessions (id, owner, incarnation, epoch, async, created_at, user_data)
			VALUES ($1, $2, $7, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
			sess.ID, sess.Owner, sess.Epoch, sess.Async, toMillis(sess.CreatedAt), json.RawMessage(userData), sess.Incarnation,
		).Exec(func(tag pgconn.CommandTag) error {
			if tag.RowsAffected() == 0 {
				*res = transcript.ErrExists
			}
			return nil
		})
	}
}

// deleteWrite deletes a session, fenced by epoch, and its events by cascade.
func deleteWrite(sessionID string, epoch int64) write {
	return func(b *pgx.Batch, res *error) {
		b.Queue(`WITH d AS (DELETE FROM sessions WHERE id = $1 AND epoch <= $2 RETURNING 1)
			SELECT EXISTS (SELECT 1 FROM d), EXISTS (SELECT 1 FROM sessions WHERE id = $1)`, sessionID, epoch,
		).QueryRow(func(row pgx.Row) error {
			var deleted, found bool
			if err := row.Scan(&deleted, &found); err != nil {
				return err
			}
			if !deleted && found {
				*res = transcript.ErrStaleEpoch
			}
			return nil
		})
	}
}

package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parley-chat/parley/internal/transcript"
)

// appendEvents is the write of one Append: fenced against the session row as
// it stands at that point of the batch (earlier writes of the batch included).
// The fence and the move of last_index are one statement; the row is read
// only to tell why an append is refused. Once the fence has passed, an insert
// cannot conflict, so one that fails anyway fails the whole batch rather than
// leave last_index moved: no savepoint is needed.
func appendEvents(sessionID string, epoch int64, rows []eventRow) writeFn {
	return func(ctx context.Context, tx *batchTx) error {
		if len(rows) == 0 {
			return fence(ctx, tx, sessionID, epoch, 0)
		}
		res, err := tx.exec(ctx, `UPDATE sessions SET last_index = ? WHERE id = ? AND epoch = ? AND last_index < ?`,
			rows[len(rows)-1].idx, sessionID, epoch, rows[0].idx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmp.Or(err, fence(ctx, tx, sessionID, epoch, rows[0].idx))
		}
		for _, e := range rows {
			if _, err := tx.exec(ctx, `INSERT INTO events (session_id, idx, time_ms, data) VALUES (?, ?, ?, ?)`,
				sessionID, e.idx, e.timeMS, e.data); err != nil {
				return fmt.Errorf("%w: event %d: %w", errAbortBatch, e.idx, err)
			}
		}
		return nil
	}
}

// fence checks a write at epoch, and an append whose first event is first
// (0: none), against the session row, and returns why it is refused, or nil.
// Fenced statements that matched no row call it to tell why.
func fence(ctx context.Context, tx *batchTx, sessionID string, epoch int64, first int) error {
	var stored, last int64
	err := tx.queryRow(ctx, `SELECT epoch, last_index FROM sessions WHERE id = ?`, sessionID).Scan(&stored, &last)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return transcript.ErrNotFound
	case err != nil:
		return err
	case epoch != stored:
		return fmt.Errorf("epoch %d, stored %d: %w", epoch, stored, transcript.ErrStaleEpoch)
	case first > 0 && int64(first) <= last:
		return fmt.Errorf("index %d, last stored %d: %w", first, last, transcript.ErrIndexConflict)
	}
	return nil
}

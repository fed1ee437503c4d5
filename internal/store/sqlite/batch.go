package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parley-chat/parley/internal/transcript"
)

// appendEvents is the write of one Append: fenced against the session row as
// it stands at that point of the batch (earlier writes of the batch included).
func appendEvents(sessionID string, epoch int64, rows []eventRow) writeFn {
	return func(ctx context.Context, tx *batchTx) error {
		var stored, last int64
		err := tx.queryRow(ctx, `SELECT epoch, last_index FROM sessions WHERE id = ?`, sessionID).Scan(&stored, &last)
		if errors.Is(err, sql.ErrNoRows) {
			err = transcript.ErrNotFound
		}
		if err != nil {
			return err
		}
		if epoch != stored {
			return fmt.Errorf("epoch %d, stored %d: %w", epoch, stored, transcript.ErrStaleEpoch)
		}
		if len(rows) == 0 {
			return nil
		}
		if int64(rows[0].idx) <= last {
			return fmt.Errorf("index %d, last stored %d: %w", rows[0].idx, last, transcript.ErrIndexConflict)
		}
		for _, e := range rows {
			if _, err := tx.exec(ctx, `INSERT INTO events (session_id, idx, time_ms, data) VALUES (?, ?, ?, ?)`,
				sessionID, e.idx, e.timeMS, e.data); err != nil {
				return err
			}
		}
		_, err = tx.exec(ctx, `UPDATE sessions SET last_index = ? WHERE id = ?`, rows[len(rows)-1].idx, sessionID)
		return err
	}
}

// missingOrStale tells why a fenced statement of the batch matched no row.
func missingOrStale(ctx context.Context, tx *batchTx, sessionID string) error {
	var n int
	if err := tx.queryRow(ctx, `SELECT count(*) FROM sessions WHERE id = ?`, sessionID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return transcript.ErrNotFound
	}
	return transcript.ErrStaleEpoch
}

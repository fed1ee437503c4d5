package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/parley-chat/parley/internal/transcript"
)

// appendChunk caps the events one statement appends; a longer append runs
// its chunks under a savepoint.
const appendChunk = 32

// appendSQL[n-1] appends n events fenced in the same statement: the rows go
// in only if the session's epoch is the caller's and the first index is
// above the session's last stored one. The session row is only read, so an
// append dirties one page, its events', not two: with thousands of chats
// at once every append's pages are its own, and each dirty page is a WAL
// frame to write and later copy.
var appendSQL = func() (qs [appendChunk]string) {
	for n := 1; n <= appendChunk; n++ {
		var b strings.Builder
		b.WriteString(`INSERT INTO events (session_id, idx, time_ms, data) SELECT ?1, column1, column2, column3 FROM (VALUES `)
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "(?%d, ?%d, ?%d)", 4+3*i, 5+3*i, 6+3*i)
		}
		b.WriteString(`) WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?1 AND epoch = ?2)
			AND ?3 > coalesce((SELECT max(idx) FROM events WHERE session_id = ?1), 0)`)
		qs[n-1] = b.String()
	}
	return qs
}()

// appendEvents is the write of one Append, fenced against the session as it
// stands at that point of the batch (earlier writes of the batch included).
// The session is read again only to tell why an append is refused.
func appendEvents(sessionID string, epoch int64, rows []eventRow) writeFn {
	return func(ctx context.Context, tx *batchTx) error {
		if len(rows) <= appendChunk {
			return appendFenced(ctx, tx, sessionID, epoch, rows)
		}
		return tx.atomic(ctx, func() error {
			for chunk := range slices.Chunk(rows, appendChunk) {
				if err := appendFenced(ctx, tx, sessionID, epoch, chunk); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// appendFenced appends rows, at most appendChunk of them, in one statement.
func appendFenced(ctx context.Context, tx *batchTx, sessionID string, epoch int64, rows []eventRow) error {
	if len(rows) == 0 {
		return fence(ctx, tx, sessionID, epoch, 0)
	}
	args := make([]any, 0, 3+3*len(rows))
	args = append(args, sessionID, epoch, rows[0].idx)
	for _, e := range rows {
		args = append(args, e.idx, e.timeMS, e.data)
	}
	res, err := tx.exec(ctx, appendSQL[len(rows)-1], args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil || n > 0 {
		return err
	}
	if err := fence(ctx, tx, sessionID, epoch, rows[0].idx); err != nil {
		return err
	}
	return errors.New("append stored nothing, yet its fence passes")
}

// fence checks a write at epoch, and an append whose first event is first
// (0: none), against the session and its last stored event, and returns why
// it is refused, or nil. Fenced statements that matched no row call it to
// tell why.
func fence(ctx context.Context, tx *batchTx, sessionID string, epoch int64, first int) error {
	var stored, last int64
	err := tx.queryRow(ctx, `SELECT epoch, coalesce((SELECT max(idx) FROM events WHERE session_id = ?1), 0)
		FROM sessions WHERE id = ?1`, sessionID).Scan(&stored, &last)
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

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// TranscriptStore is the intermediate transcript store. Its writes go
// through the database's one writer, so appends of many sessions share a
// transaction; Append returns after that transaction has committed with
// synchronous=FULL. It is safe for concurrent use.
type TranscriptStore struct {
	db     *sql.DB
	w      *writer
	closed atomic.Bool
}

// eventRow is an event as stored: its index, UTC milliseconds and JSON.
type eventRow struct {
	idx    int
	timeMS int64
	data   []byte
}

// markClosed makes every later call fail with transcript.ErrClosed.
func (s *TranscriptStore) markClosed() { s.closed.Store(true) }

func (s *TranscriptStore) checkOpen() error {
	if s.closed.Load() {
		return transcript.ErrClosed
	}
	return nil
}

// Create stores a new session header, or returns transcript.ErrExists.
func (s *TranscriptStore) Create(ctx context.Context, sess transcript.Session) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	ud, err := transcript.EncodeUserData(sess.UserData)
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", sess.ID, err)
	}
	err = s.write(ctx, func(ctx context.Context, tx *batchTx) error {
		res, err := tx.exec(ctx, `INSERT INTO sessions (id, owner, incarnation, epoch, async, created_at, user_data)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			sess.ID, sess.Owner, sess.Incarnation, sess.Epoch, sess.Async, sess.CreatedAt.UnixMilli(), string(ud))
		if err != nil {
			return err
		}
		return affected(res, transcript.ErrExists)
	})
	return wrapErr("create", sess.ID, err)
}

// write runs fn through the writer, reporting a closed writer as
// transcript.ErrClosed.
func (s *TranscriptStore) write(ctx context.Context, fn writeFn) error {
	err := s.w.do(ctx, fn)
	if errors.Is(err, errWriterClosed) {
		return transcript.ErrClosed
	}
	return err
}

// Append durably adds events to a session; see transcript.Store. Events of
// many callers are committed together, and each caller gets its own result.
// If ctx ends while the append waits for its batch, Append returns ctx's
// error and the events may or may not have been stored.
func (s *TranscriptStore) Append(ctx context.Context, sessionID string, epoch int64, events []transcript.Event) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	rows, err := encodeEvents(events)
	if err != nil {
		return fmt.Errorf("sqlite: append %s: %w", sessionID, err)
	}
	return wrapErr("append", sessionID, s.write(ctx, appendEvents(sessionID, epoch, rows)))
}

// encodeEvents checks that indexes increase and marshals each event; it runs
// in the caller's goroutine so that the committer only writes.
func encodeEvents(events []transcript.Event) ([]eventRow, error) {
	if err := transcript.CheckOrder(events); err != nil {
		return nil, err
	}
	rows := make([]eventRow, len(events))
	for i, e := range events {
		data, err := e.AppendJSON(nil)
		if err != nil {
			return nil, err // names the event
		}
		rows[i] = eventRow{idx: e.Index, timeMS: e.Time.UnixMilli(), data: data}
	}
	return rows, nil
}

// Header returns the session header without its events.
func (s *TranscriptStore) Header(ctx context.Context, sessionID string) (transcript.Session, error) {
	if err := s.checkOpen(); err != nil {
		return transcript.Session{}, err
	}
	sess, err := scanSession(s.db.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = ?`, sessionID))
	if err != nil {
		return transcript.Session{}, fmt.Errorf("sqlite: header %s: %w", sessionID, err)
	}
	return sess, nil
}

// Load returns the session header and its events in index order. The two
// reads need no common snapshot: events are only ever added after the
// header, so a concurrent append at worst shows up already.
func (s *TranscriptStore) Load(ctx context.Context, sessionID string) (transcript.Snapshot, error) {
	if err := s.checkOpen(); err != nil {
		return transcript.Snapshot{}, err
	}
	sess, err := s.Header(ctx, sessionID)
	if err != nil {
		return transcript.Snapshot{}, err
	}
	events, err := s.loadEvents(ctx, sessionID)
	if err != nil {
		return transcript.Snapshot{}, fmt.Errorf("sqlite: load %s: %w", sessionID, err)
	}
	return transcript.Snapshot{Session: sess, Events: events}, nil
}

func (s *TranscriptStore) loadEvents(ctx context.Context, sessionID string) ([]transcript.Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT time_ms, data FROM events WHERE session_id = ? ORDER BY idx`, sessionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var events []transcript.Event
	for rows.Next() {
		var ms int64
		var data []byte
		if err := rows.Scan(&ms, &data); err != nil {
			return nil, err
		}
		var e transcript.Event
		if err := json.Unmarshal(data, &e); err != nil {
			return nil, err
		}
		e.Time = time.UnixMilli(ms).UTC()
		events = append(events, e)
	}
	return events, rows.Err()
}

// Claim raises the session's epoch by one and makes owner's process
// incarnation its owner if the stored epoch is still epoch, in one
// statement.
func (s *TranscriptStore) Claim(ctx context.Context, sessionID, owner, incarnation string, epoch int64) (int64, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	var next int64
	err := s.write(ctx, func(ctx context.Context, tx *batchTx) error {
		err := tx.queryRow(ctx, `UPDATE sessions SET epoch = epoch + 1, owner = ?, incarnation = ?
			WHERE id = ? AND epoch = ? RETURNING epoch`, owner, incarnation, sessionID, epoch).Scan(&next)
		if errors.Is(err, sql.ErrNoRows) {
			return fence(ctx, tx, sessionID, epoch, 0)
		}
		return err
	})
	if err != nil {
		return 0, wrapErr("claim", sessionID, err)
	}
	return next, nil
}

// Delete removes a session and, by cascade, its events, unless epoch is
// stale. The fence and the delete are one statement.
func (s *TranscriptStore) Delete(ctx context.Context, sessionID string, epoch int64) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	err := s.write(ctx, func(ctx context.Context, tx *batchTx) error {
		res, err := tx.exec(ctx, `DELETE FROM sessions WHERE id = ? AND epoch <= ?`, sessionID, epoch)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		if err := fence(ctx, tx, sessionID, epoch, 0); !errors.Is(err, transcript.ErrNotFound) {
			return err
		}
		return nil // deleting a missing session is not an error
	})
	return wrapErr("delete", sessionID, err)
}

// Sessions lists the headers of owner's sessions, oldest first.
func (s *TranscriptStore) Sessions(ctx context.Context, owner string) ([]transcript.Session, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE owner = ? ORDER BY created_at, id`, owner)
	if err != nil {
		return nil, fmt.Errorf("sqlite: sessions of %s: %w", owner, err)
	}
	defer rows.Close()
	var out []transcript.Session
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: sessions of %s: %w", owner, err)
		}
		out = append(out, sess)
	}
	return out, wrapErr("sessions of", owner, rows.Err())
}

const sessionCols = `id, owner, incarnation, epoch, async, created_at, user_data`

// scanSession reads a row of sessionCols; a missing row is transcript.ErrNotFound.
func scanSession(row interface{ Scan(...any) error }) (transcript.Session, error) {
	var s transcript.Session
	var created int64
	var ud []byte
	err := row.Scan(&s.ID, &s.Owner, &s.Incarnation, &s.Epoch, &s.Async, &created, &ud)
	if errors.Is(err, sql.ErrNoRows) {
		return s, transcript.ErrNotFound
	}
	if err != nil {
		return s, err
	}
	s.CreatedAt = time.UnixMilli(created).UTC()
	s.UserData, err = transcript.DecodeUserData(ud)
	return s, err
}

func wrapErr(op, id string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlite: %s %s: %w", op, id, err)
}

var _ transcript.Store = (*TranscriptStore)(nil)

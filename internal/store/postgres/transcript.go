package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-chat/parley/internal/transcript"
)

// TranscriptStore is the intermediate transcript store. Its writes go
// through the database's writer, which commits the writes of all goroutines
// in batches; each returns after its batch has committed. It is safe for
// concurrent use.
type TranscriptStore struct {
	pool *pgxpool.Pool
	w    *writer
}

func (s *TranscriptStore) checkOpen() error {
	if s.w.closed.Load() {
		return transcript.ErrClosed
	}
	return nil
}

// do runs wr through the writer, naming op and the session in its error.
func (s *TranscriptStore) do(ctx context.Context, op, sessionID string, wr write) error {
	err := s.w.do(ctx, wr)
	if errors.Is(err, errWriterClosed) {
		err = transcript.ErrClosed
	}
	return wrapErr(op, sessionID, err)
}

// Create stores a new session header, or returns transcript.ErrExists.
func (s *TranscriptStore) Create(ctx context.Context, sess transcript.Session) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	ud, err := transcript.EncodeUserData(sess.UserData)
	if err != nil {
		return fmt.Errorf("postgres: create %s: %w", sess.ID, err)
	}
	return s.do(ctx, "create", sess.ID, createWrite(sess, ud))
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
		return fmt.Errorf("postgres: append %s: %w", sessionID, err)
	}
	err = s.w.do(ctx, appendWrite(appendReq{sessionID: sessionID, epoch: epoch, events: rows}))
	if errors.Is(err, errWriterClosed) {
		return fmt.Errorf("postgres: append %s: %w", sessionID, transcript.ErrClosed)
	}
	return err
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
		rows[i] = eventRow{idx: int64(e.Index), timeMS: e.Time.UnixMilli(), data: string(data)}
	}
	return rows, nil
}

// Header returns the session header without its events.
func (s *TranscriptStore) Header(ctx context.Context, sessionID string) (transcript.Session, error) {
	if err := s.checkOpen(); err != nil {
		return transcript.Session{}, err
	}
	sess, err := scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = $1`, sessionID))
	if err != nil {
		return transcript.Session{}, fmt.Errorf("postgres: header %s: %w", sessionID, err)
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
		return transcript.Snapshot{}, fmt.Errorf("postgres: load %s: %w", sessionID, err)
	}
	return transcript.Snapshot{Session: sess, Events: events}, nil
}

func (s *TranscriptStore) loadEvents(ctx context.Context, sessionID string) ([]transcript.Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT time_ms, data FROM events WHERE session_id = $1 ORDER BY idx`, sessionID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (transcript.Event, error) {
		var ms int64
		var data []byte
		var e transcript.Event
		if err := row.Scan(&ms, &data); err != nil {
			return e, err
		}
		err := json.Unmarshal(data, &e)
		e.Time = time.UnixMilli(ms).UTC()
		return e, err
	})
}

// Claim raises the session's epoch by one and makes owner's process
// incarnation its owner if the stored epoch is still epoch, in one
// statement.
func (s *TranscriptStore) Claim(ctx context.Context, sessionID, owner, incarnation string, epoch int64) (int64, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	var next int64
	err := s.pool.QueryRow(ctx, `UPDATE sessions SET epoch = epoch + 1, owner = $2, incarnation = $4
		WHERE id = $1 AND epoch = $3 RETURNING epoch`,
		sessionID, owner, epoch, incarnation).Scan(&next)
	if errors.Is(err, pgx.ErrNoRows) {
		err = s.missingOrStale(ctx, sessionID)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: claim %s: %w", sessionID, err)
	}
	return next, nil
}

// missingOrStale tells why a fenced statement matched no row.
func (s *TranscriptStore) missingOrStale(ctx context.Context, sessionID string) error {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE id = $1`, sessionID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return transcript.ErrNotFound
	}
	return transcript.ErrStaleEpoch
}

// Delete removes a session and, by cascade, its events, unless epoch is
// stale. The fence and the delete are one statement; deleting a session that
// is not there succeeds.
func (s *TranscriptStore) Delete(ctx context.Context, sessionID string, epoch int64) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	return s.do(ctx, "delete", sessionID, deleteWrite(sessionID, epoch))
}

// Sessions lists the headers of owner's sessions, oldest first.
func (s *TranscriptStore) Sessions(ctx context.Context, owner string) ([]transcript.Session, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+sessionCols+` FROM sessions WHERE owner = $1 ORDER BY created_at, id`, owner)
	if err != nil {
		return nil, fmt.Errorf("postgres: sessions of %s: %w", owner, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (transcript.Session, error) { return scanSession(row) })
	return out, wrapErr("sessions of", owner, err)
}

const sessionCols = `id, owner, incarnation, epoch, async, created_at, user_data`

// scanSession reads a row of sessionCols; a missing row is transcript.ErrNotFound.
func scanSession(row pgx.Row) (transcript.Session, error) {
	var s transcript.Session
	var ud []byte
	err := row.Scan(&s.ID, &s.Owner, &s.Incarnation, &s.Epoch, &s.Async, &s.CreatedAt, &ud)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, transcript.ErrNotFound
	}
	if err != nil {
		return s, err
	}
	s.CreatedAt = s.CreatedAt.UTC()
	s.UserData, err = transcript.DecodeUserData(ud)
	return s, err
}

func wrapErr(op, id string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("postgres: %s %s: %w", op, id, err)
}

// toMillis truncates t to the millisecond precision parley keeps.
func toMillis(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

var _ transcript.Store = (*TranscriptStore)(nil)

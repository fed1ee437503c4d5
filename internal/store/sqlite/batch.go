package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parley-chat/parley/internal/transcript"
)

// commitAppends is the group-commit function: it writes a batch of appends in
// one transaction. Each append is checked against the session row as it
// stands at that point of the transaction (earlier appends of the batch
// included) and a refused one is skipped, so it fails alone; an error of the
// transaction itself fails the whole batch.
func (s *TranscriptStore) commitAppends(ctx context.Context, reqs []appendReq) []error {
	errs := make([]error, len(reqs))
	err := inTx(ctx, s.db, func(tx *sql.Tx) error {
		st, err := prepareAppend(ctx, tx)
		if err != nil {
			return err
		}
		defer st.close()
		for i, r := range reqs {
			if errs[i], err = st.apply(ctx, r); err != nil {
				return fmt.Errorf("sqlite: append %s: %w", r.sessionID, err)
			}
		}
		return nil
	})
	if err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("sqlite: append batch: %w", err)
		}
	}
	return errs
}

// appendStmts are the statements of a batch, prepared once per transaction.
type appendStmts struct {
	head, insert, update *sql.Stmt
}

func prepareAppend(ctx context.Context, tx *sql.Tx) (*appendStmts, error) {
	var st appendStmts
	var err error
	prep := func(q string) *sql.Stmt {
		var s *sql.Stmt
		if err == nil {
			s, err = tx.PrepareContext(ctx, q)
		}
		return s
	}
	st.head = prep(`SELECT epoch, last_index FROM sessions WHERE id = ?`)
	st.insert = prep(`INSERT INTO events (session_id, idx, time_ms, data) VALUES (?, ?, ?, ?)`)
	st.update = prep(`UPDATE sessions SET last_index = ? WHERE id = ?`)
	if err != nil {
		st.close()
		return nil, err
	}
	return &st, nil
}

func (st *appendStmts) close() {
	for _, s := range []*sql.Stmt{st.head, st.insert, st.update} {
		if s != nil {
			_ = s.Close()
		}
	}
}

// apply writes one append. It returns the append's own refusal as itemErr,
// and as err a failure that dooms the transaction.
func (st *appendStmts) apply(ctx context.Context, r appendReq) (itemErr, err error) {
	var epoch, last int64
	err = st.head.QueryRowContext(ctx, r.sessionID).Scan(&epoch, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return refuse(r, transcript.ErrNotFound), nil
	}
	if err != nil {
		return nil, err
	}
	if refusal := check(r, epoch, last); refusal != nil {
		return refusal, nil
	}
	for _, e := range r.events {
		if _, err := st.insert.ExecContext(ctx, r.sessionID, e.idx, e.timeMS, e.data); err != nil {
			return nil, err
		}
	}
	if len(r.events) > 0 {
		_, err = st.update.ExecContext(ctx, r.events[len(r.events)-1].idx, r.sessionID)
	}
	return nil, err
}

// check fences r against the stored epoch and last index.
func check(r appendReq, epoch, last int64) error {
	if r.epoch != epoch {
		return refuse(r, fmt.Errorf("epoch %d, stored %d: %w", r.epoch, epoch, transcript.ErrStaleEpoch))
	}
	if len(r.events) > 0 && int64(r.events[0].idx) <= last {
		return refuse(r, fmt.Errorf("index %d, last stored %d: %w", r.events[0].idx, last, transcript.ErrIndexConflict))
	}
	return nil
}

func refuse(r appendReq, err error) error {
	return fmt.Errorf("sqlite: append %s: %w", r.sessionID, err)
}

package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/transcript"
)

// head is a session row as the batch sees it, locked for the transaction.
type head struct {
	epoch, last int64
	dirty       bool // last changed in this batch
}

// commitAppends is the group-commit function: it writes a batch of appends in
// one transaction of a few round trips. It locks the sessions of the batch
// (in id order, so two committers never deadlock), checks each append
// against the row as earlier appends of the batch left it, skips a refused
// one so that it fails alone, and writes all accepted events at once. An
// error of the transaction itself fails the whole batch.
func (s *TranscriptStore) commitAppends(ctx context.Context, reqs []appendReq) []error {
	errs := make([]error, len(reqs))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		heads, err := lockHeads(ctx, tx, reqs)
		if err != nil {
			return err
		}
		var accepted []appendReq
		for i, r := range reqs {
			if errs[i] = admit(r, heads[r.sessionID]); errs[i] == nil {
				accepted = append(accepted, r)
			}
		}
		return writeBatch(ctx, tx, accepted, heads)
	})
	if err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("postgres: append batch: %w", err)
		}
	}
	return errs
}

// lockHeads reads and locks the session rows the batch appends to.
func lockHeads(ctx context.Context, tx pgx.Tx, reqs []appendReq) (map[string]*head, error) {
	ids := make([]string, len(reqs))
	for i, r := range reqs {
		ids[i] = r.sessionID
	}
	rows, err := tx.Query(ctx, `SELECT id, epoch, last_index FROM sessions WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
	if err != nil {
		return nil, err
	}
	heads := make(map[string]*head, len(reqs))
	var id string
	var h head
	_, err = pgx.ForEachRow(rows, []any{&id, &h.epoch, &h.last}, func() error {
		heads[id] = &head{epoch: h.epoch, last: h.last}
		return nil
	})
	return heads, err
}

// admit checks r against h, the session as the batch has left it so far, and
// advances h when r is accepted.
func admit(r appendReq, h *head) error {
	switch {
	case h == nil:
		return refuse(r, transcript.ErrNotFound)
	case r.epoch != h.epoch:
		return refuse(r, fmt.Errorf("epoch %d, stored %d: %w", r.epoch, h.epoch, transcript.ErrStaleEpoch))
	case len(r.events) > 0 && r.events[0].idx <= h.last:
		return refuse(r, fmt.Errorf("index %d, last stored %d: %w", r.events[0].idx, h.last, transcript.ErrIndexConflict))
	}
	if len(r.events) > 0 {
		h.last, h.dirty = r.events[len(r.events)-1].idx, true
	}
	return nil
}

func refuse(r appendReq, err error) error {
	return fmt.Errorf("postgres: append %s: %w", r.sessionID, err)
}

// writeBatch inserts the accepted events and moves last_index, in two
// set-based statements sent as one pipeline.
func writeBatch(ctx context.Context, tx pgx.Tx, accepted []appendReq, heads map[string]*head) error {
	var sid, data []string
	var idx, ms []int64
	for _, r := range accepted {
		for _, e := range r.events {
			sid, idx, ms, data = append(sid, r.sessionID), append(idx, e.idx), append(ms, e.timeMS), append(data, e.data)
		}
	}
	if len(sid) == 0 {
		return nil
	}
	var ids []string
	var lasts []int64
	for id, h := range heads {
		if h.dirty {
			ids, lasts = append(ids, id), append(lasts, h.last)
		}
	}
	var b pgx.Batch
	b.Queue(`INSERT INTO events (session_id, idx, time_ms, data)
		SELECT s, i, t, d::jsonb FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) AS u(s, i, t, d)`,
		sid, idx, ms, data)
	b.Queue(`UPDATE sessions SET last_index = u.last
		FROM unnest($1::text[], $2::bigint[]) AS u(id, last) WHERE sessions.id = u.id`, ids, lasts)
	return tx.SendBatch(ctx, &b).Close()
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-chat/parley/internal/store/groupcommit"
)

// batchSize caps the writes sent in one batch.
const batchSize = 256

// writer sends the writes of a chat's life (its creation, appends, the final
// transcript and the deletion of the intermediate one) from all goroutines
// as one pipelined batch per group commit: the statements of a batch go out
// together and run in one implicit transaction, so a batch costs one round
// trip and one commit however many chats it carries. Each write is one
// statement whose refusals (a stale epoch, an index conflict) are results,
// not SQL errors, so that a refused write never fails the others; an error of
// the database fails the whole batch.
type writer struct {
	committer *groupcommit.Committer[write]
	closed    atomic.Bool
}

// write is one write: it queues its statement on the batch with a callback
// that stores the write's outcome in *res. The callback returns only an error
// of the database, which fails the batch.
type write func(b *pgx.Batch, res *error)

// errWriterClosed is what a write gets once the database is closed; each
// store maps it to its own sentinel.
var errWriterClosed = errors.New("postgres: database closed")

func newWriter(pool *pgxpool.Pool) *writer {
	return &writer{committer: groupcommit.New(func(ctx context.Context, ws []write) []error {
		return commitWrites(ctx, pool, ws)
	}, batchSize, groupcommit.Linger)}
}

// do queues w and waits until its batch has committed. If ctx ends first it
// returns ctx's error and w may or may not have been committed.
func (w *writer) do(ctx context.Context, wr write) error {
	if w.closed.Load() {
		return errWriterClosed
	}
	err := w.committer.Do(ctx, wr)
	if errors.Is(err, groupcommit.ErrClosed) {
		return errWriterClosed
	}
	return err
}

// close commits the writes already queued and stops the goroutine.
func (w *writer) close() {
	w.closed.Store(true)
	w.committer.Close()
}

// commitWrites sends ws as one batch and returns each write's outcome.
func commitWrites(ctx context.Context, pool *pgxpool.Pool, ws []write) []error {
	res := make([]error, len(ws))
	var b pgx.Batch
	for i, w := range ws {
		w(&b, &res[i])
	}
	if err := pool.SendBatch(ctx, &b).Close(); err != nil {
		for i := range res {
			res[i] = fmt.Errorf("postgres: write batch: %w", err)
		}
	}
	return res
}

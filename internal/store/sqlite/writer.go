package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/parley-chat/parley/internal/store/groupcommit"
)

// batchSize caps the writes committed in one transaction.
const batchSize = 256

// writer runs every write of the process on one goroutine, committing the
// writes queued meanwhile together: one transaction and one fsync per batch.
// Serialising in the process matters as much as batching: two connections of
// one process that both want the write lock meet SQLite's busy handler, which
// sleeps (1 ms growing to 100 ms) instead of waking when the lock frees, so a
// chat server writing on several connections stalls with an idle CPU.
type writer struct {
	committer *groupcommit.Committer[writeFn]
	cache     *stmtCache
	// restartWAL asks the writer to checkpoint before its next batch, so
	// that the batch reuses the WAL from its start (see restartFrames).
	restartWAL atomic.Bool
}

// stmtCache holds the writes' statements prepared on the database, so that
// SQL is parsed once per connection, not once per batch. Only the writer
// goroutine uses it.
type stmtCache struct {
	db    *sql.DB
	stmts map[string]*sql.Stmt
}

func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

func (c *stmtCache) close() {
	for _, st := range c.stmts {
		_ = st.Close()
	}
}

// writeFn is one write. It runs inside its batch's transaction, and its error
// is its result. A write that fails must leave the transaction as it found
// it: one statement does by itself (SQLite undoes a failed statement's
// changes, not the transaction's), and a write of several statements that
// change rows runs them under batchTx.atomic. A savepoint around every
// write would cost two more statements each.
type writeFn func(ctx context.Context, tx *batchTx) error

func newWriter(db *sql.DB) *writer {
	w := &writer{cache: &stmtCache{db: db, stmts: make(map[string]*sql.Stmt)}}
	w.committer = groupcommit.New(func(ctx context.Context, fns []writeFn) []error {
		if w.restartWAL.CompareAndSwap(true, false) {
			// Between batches no write of this process is open, so the
			// checkpoint copies the last frames and the next write restarts
			// the WAL. Only the checkpoint beside the writer's lag is left to
			// copy, so this pause is short; a failure only leaves the WAL long.
			_, _ = db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		}
		return commitBatch(ctx, w.cache, fns)
	}, batchSize, groupcommit.Linger)
	return w
}

// do queues fn and waits until its batch has committed. If ctx ends first it
// returns ctx's error and fn may or may not have been committed; after close
// it returns errWriterClosed.
func (w *writer) do(ctx context.Context, fn writeFn) error {
	err := w.committer.Do(ctx, fn)
	if errors.Is(err, groupcommit.ErrClosed) {
		return errWriterClosed
	}
	return err
}

// close commits the writes already queued and stops the goroutine.
func (w *writer) close() {
	w.committer.Close()
	w.cache.close() // the goroutine has exited
}

var errWriterClosed = errors.New("sqlite: database closed")

// commitBatch runs fns in one immediate transaction. A failure of the
// transaction itself (begin, the commit, or a write's error that ended it)
// fails every write of the batch.
func commitBatch(ctx context.Context, cache *stmtCache, fns []writeFn) []error {
	errs := make([]error, len(fns))
	err := inTx(ctx, cache.db, func(tx *sql.Tx) error {
		btx := &batchTx{Tx: tx, cache: cache, stmts: make(map[string]*sql.Stmt)}
		for i, fn := range fns {
			if errs[i] = fn(ctx, btx); errs[i] != nil {
				if err := btx.alive(ctx); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("sqlite: write batch: %w", err)
		}
	}
	return errs
}

// batchTx is a batch's transaction with the writer's statements bound to it
// (a transaction closes its statements when it ends).
type batchTx struct {
	*sql.Tx
	cache *stmtCache
	stmts map[string]*sql.Stmt
}

// alive checks, after a write failed, that the transaction is still open:
// some errors (I/O, a full disk, an interrupt) make SQLite roll the whole
// transaction back, and later statements would then each commit on their
// own. Inside a transaction BEGIN fails; if it succeeds, the transaction
// had ended, and the one BEGIN opened is rolled back with the batch. (A
// savepoint held over the batch would tell as well, but it makes SQLite
// copy every page the batch changes into a statement journal first.)
func (b *batchTx) alive(ctx context.Context) error {
	if _, err := b.exec(ctx, `BEGIN`); err != nil {
		return nil
	}
	return errTxEnded
}

var errTxEnded = errors.New("transaction ended by a failed write")

// atomic runs fn, a write of several statements, under a savepoint, so that
// its error undoes all of its statements. The savepoint statements are
// prepared once, like the writes'.
func (b *batchTx) atomic(ctx context.Context, fn func() error) error {
	if _, err := b.exec(ctx, `SAVEPOINT w`); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rbErr := b.exec(ctx, `ROLLBACK TO w`); rbErr != nil {
			return errors.Join(err, rbErr)
		}
		_, relErr := b.exec(ctx, `RELEASE w`)
		return errors.Join(err, relErr)
	}
	_, err := b.exec(ctx, `RELEASE w`)
	return err
}

// stmt returns the writer's statement for query bound to the transaction.
func (b *batchTx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := b.stmts[query]; ok {
		return st, nil
	}
	st, err := b.cache.get(ctx, query)
	if err != nil {
		return nil, err
	}
	st = b.StmtContext(ctx, st)
	b.stmts[query] = st
	return st, nil
}

// exec runs a prepared statement of the batch.
func (b *batchTx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := b.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// queryRow runs a prepared query of the batch; errors surface at Scan.
func (b *batchTx) queryRow(ctx context.Context, query string, args ...any) scanner {
	st, err := b.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// scanner is a row to scan: *sql.Row or a failed preparation.
type scanner interface{ Scan(...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// affected returns notFound when res changed no row.
func affected(res sql.Result, notFound error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound
	}
	return nil
}

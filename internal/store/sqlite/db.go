package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	sqlite "modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// maxConns bounds the pool: writes serialise on the file lock anyway, and a
// few connections are enough for concurrent reads in WAL mode. Idle
// connections are kept, because opening one re-runs the pragmas.
const maxConns = 8

// openRetry bounds how long Open retries a file another process is creating.
const openRetry = 15 * time.Second

// tunable are connection settings a "file:" URI may override.
var tunable = map[string]string{
	"_busy_timeout": "10000", // ms a writer waits for another process's write lock
	// FULL fsyncs the WAL at every commit, so an appended event survives a
	// power loss, not only a kill -9 (which NORMAL in WAL mode already
	// survives). Group commit pays one fsync per batch, which keeps the cost
	// small; see docs/benchmarks.md.
	"_synchronous": "FULL",
}

// forced are settings correctness depends on; they replace any value in the DSN.
var forced = map[string]string{
	"_journal_mode": "WAL",
	"_foreign_keys": "1",
	"_txlock":       "immediate",
}

// cacheSize is each connection's page cache unless the DSN sets one: 32 MiB
// rather than SQLite's 2 MiB, so that the index pages a chat server writes
// stay in memory as the store grows to hundreds of thousands of sessions.
const cacheSize = "cache_size(-32768)"

// noAutoCheckpoint stops SQLite from checkpointing the WAL inside a commit:
// a checkpoint copies the WAL into the database file and fsyncs it, which
// would stall every write queued behind that commit. A goroutine of each
// DB checkpoints instead, beside the writer (see checkpoints).
const noAutoCheckpoint = "wal_autocheckpoint(0)"

// checkpointEvery is how often a DB checkpoints the WAL. A PASSIVE
// checkpoint never blocks the writer and copies what no reader still needs,
// so the WAL stays small and, once fully copied, is reused from its start.
const checkpointEvery = 200 * time.Millisecond

// restartFrames is the WAL length, in frames, past which the writer itself
// finishes a checkpoint between two batches. SQLite reuses the WAL from its
// start only when a write begins with every frame copied, which a writer
// committing without pause never sees: the checkpoint beside it always
// trails by the frames committed meanwhile. The WAL file then grows without
// end (hundreds of MB in minutes), and appending to a growing file makes
// every commit's writes and fsync dearer. 8,192 frames is 32 MiB of 4 KiB
// pages. A variable, so that a test can reach it in a few seconds.
var restartFrames = 8192

// DB is an open SQLite database holding every parley store. It is safe for
// concurrent use; Close releases it.
type DB struct {
	sql         *sql.DB
	w           *writer
	transcripts *TranscriptStore
	contacts    *ContactStore
	files       *FileStore
	stopCkpt    context.CancelFunc
	ckptDone    chan struct{}
	closeOnce   sync.Once
	closeErr    error
}

// Open opens (creating if needed) the database and brings its schema up to
// date. dsn is a file path, whose parent directory is created, or a full
// "file:" URI whose query may set _busy_timeout and _synchronous. Opening a
// file from two processes at once is safe: migrations run in an immediate
// transaction, so one process waits for the other.
func Open(ctx context.Context, dsn string) (*DB, error) {
	uri, err := connString(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", dsn, err)
	}
	// Switching a new file to WAL takes an exclusive lock without waiting on
	// the busy timeout, so two processes creating one file at once may see
	// SQLITE_BUSY here: retry for a while.
	deadline := time.Now().Add(openRetry)
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		sdb, err := openOnce(ctx, uri)
		if err == nil {
			w := newWriter(sdb)
			db := &DB{sql: sdb, w: w, transcripts: &TranscriptStore{db: sdb, w: w},
				contacts: &ContactStore{db: sdb, w: w}, files: &FileStore{db: sdb, w: w}, ckptDone: make(chan struct{})}
			var cctx context.Context
			cctx, db.stopCkpt = context.WithCancel(context.Background())
			go db.checkpoints(cctx)
			return db, nil
		}
		if !isBusy(err) || time.Now().After(deadline) {
			return nil, fmt.Errorf("sqlite: open %s: %w", dsn, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("sqlite: open %s: %w", dsn, err)
		case <-time.After(delay):
		}
	}
}

func openOnce(ctx context.Context, uri string) (*sql.DB, error) {
	sdb, err := sql.Open("sqlite", uri)
	if err != nil {
		return nil, err
	}
	sdb.SetMaxOpenConns(maxConns)
	sdb.SetMaxIdleConns(maxConns)
	if err := migrate(ctx, sdb); err != nil {
		_ = sdb.Close()
		return nil, err
	}
	return sdb, nil
}

// isBusy reports whether err is SQLITE_BUSY or one of its extended codes.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Transcripts returns the intermediate transcript store.
func (db *DB) Transcripts() *TranscriptStore { return db.transcripts }

// Contacts returns the contact store.
func (db *DB) Contacts() *ContactStore { return db.contacts }

// Files returns the store of the files uploaded into sessions.
func (db *DB) Files() *FileStore { return db.files }

// Close commits the writes already queued, stops the writer and closes
// the database. It is idempotent; later calls return the first result.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.transcripts.markClosed()
		db.w.close()
		db.stopCkpt()
		<-db.ckptDone
		if err := db.sql.Close(); err != nil {
			db.closeErr = fmt.Errorf("sqlite: close: %w", err)
		}
	})
	return db.closeErr
}

// checkpoints checkpoints the WAL every checkpointEvery until ctx ends. A
// failure (SQLITE_BUSY while another process checkpoints) is retried at the
// next tick; a WAL that could not be copied meanwhile only grows a little.
func (db *DB) checkpoints(ctx context.Context) {
	defer close(db.ckptDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			var busy, frames, copied int
			err := db.sql.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
			if err == nil && frames > restartFrames {
				db.w.restartWAL.Store(true)
			}
		}
	}
}

// connString turns a path or a "file:" URI into the driver's DSN with
// parley's settings.
func connString(dsn string) (string, error) {
	base, query, _ := strings.Cut(dsn, "?")
	if !strings.HasPrefix(dsn, "file:") {
		abs, err := filepath.Abs(dsn)
		if err != nil {
			return "", err
		}
		if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
			return "", err
		}
		base, query = (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), ""
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", err
	}
	for k, v := range tunable {
		if !q.Has(k) {
			q.Set(k, v)
		}
	}
	for _, alias := range []string{"_journal", "_fk"} {
		q.Del(alias) // an alias would win over the forced key
	}
	for k, v := range forced {
		q.Set(k, v)
	}
	if !strings.Contains(strings.Join(q["_pragma"], ","), "cache_size") {
		q.Add("_pragma", cacheSize)
	}
	if !strings.Contains(strings.Join(q["_pragma"], ","), "wal_autocheckpoint") {
		q.Add("_pragma", noAutoCheckpoint)
	}
	return base + "?" + q.Encode(), nil
}

// inTx runs fn in a transaction, which begins IMMEDIATE, and commits it.
func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

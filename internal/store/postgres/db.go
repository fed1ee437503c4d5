package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
)

// defaultMaxConns sizes the pool when the DSN sets no pool_max_conns. pgx's
// own default, four (or the CPU count), is too few for a chat server on one
// CPU: its session creations, final saves and deletes each hold a
// connection for a network round trip or more, beside the group commits,
// and under load they queued for a connection rather than for the database.
const defaultMaxConns = 32

// DB is an open PostgreSQL pool holding every parley store. It is safe for
// concurrent use; Close releases it.
type DB struct {
	pool        *pgxpool.Pool
	w           *writer
	transcripts *TranscriptStore
	contacts    *ContactStore
	files       *FileStore
	closeOnce   sync.Once
}

// Open connects to PostgreSQL and brings the schema up to date. dsn is a pgx
// connection string; a search_path in it is honoured, and the tables go into
// its first schema, and pool_max_conns sets the pool's size (default
// defaultMaxConns). Two processes opening at once are safe: migrations run
// under a transaction-scoped advisory lock per schema.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	w := newWriter(pool)
	return &DB{
		pool: pool, w: w,
		transcripts: &TranscriptStore{pool: pool, w: w},
		contacts:    &ContactStore{pool: pool, w: w},
		files:       &FileStore{pool: pool},
	}, nil
}

// Transcripts returns the intermediate transcript store.
func (db *DB) Transcripts() *TranscriptStore { return db.transcripts }

// Contacts returns the contact store.
func (db *DB) Contacts() *ContactStore { return db.contacts }

// Files returns the store of the files uploaded into sessions.
func (db *DB) Files() *FileStore { return db.files }

// Close commits the writes already queued, stops the writer and closes the
// pool. It is idempotent.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.w.close()
		db.pool.Close()
	})
	return nil
}

package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is an open PostgreSQL pool holding every parley store. It is safe for
// concurrent use; Close releases it.
type DB struct {
	pool        *pgxpool.Pool
	transcripts *TranscriptStore
	contacts    *ContactStore
	files       *FileStore
	closeOnce   sync.Once
}

// Open connects to PostgreSQL and brings the schema up to date. dsn is a pgx
// connection string; a search_path in it is honoured, and the tables go into
// its first schema. Two processes opening at once are safe: migrations run
// under a transaction-scoped advisory lock per schema.
func Open(ctx context.Context, dsn string) (*DB, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return &DB{pool: pool, transcripts: newTranscriptStore(pool), contacts: &ContactStore{pool: pool}, files: &FileStore{pool: pool}}, nil
}

// Transcripts returns the intermediate transcript store.
func (db *DB) Transcripts() *TranscriptStore { return db.transcripts }

// Contacts returns the contact store.
func (db *DB) Contacts() *ContactStore { return db.contacts }

// Files returns the store of the files uploaded into sessions.
func (db *DB) Files() *FileStore { return db.files }

// Close commits the appends already queued, stops the committer and closes
// the pool. It is idempotent.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.transcripts.close()
		db.pool.Close()
	})
	return nil
}

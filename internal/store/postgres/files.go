package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parley-chat/parley/internal/transcript"
)

// FileStore keeps the files clients upload into sessions. It is safe for
// concurrent use.
type FileStore struct {
	pool *pgxpool.Pool
}

// fileCols are the columns scanFile reads, in its order.
const fileCols = `id, session_id, name, content_type, description, size, uploaded_by, created_at, downloads, deleted`

// PutFile stores a new file and its content. A taken id is
// transcript.ErrExists.
func (s *FileStore) PutFile(ctx context.Context, f transcript.File, data []byte) error {
	if data == nil {
		data = []byte{} // NULL content marks a deleted file
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO files (`+fileCols+`, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, false, $9) ON CONFLICT (id) DO NOTHING`,
		f.ID, f.SessionID, f.Name, f.ContentType, f.Description, f.Size, f.UploadedBy, f.CreatedAt.UnixMilli(), data)
	if err == nil && tag.RowsAffected() == 0 {
		err = transcript.ErrExists
	}
	if err != nil {
		return fmt.Errorf("postgres: put file %s: %w", f.ID, err)
	}
	return nil
}

// File returns a live file of the session and its content. With download it
// counts one download, in the same statement, so concurrent downloads are
// all counted; the returned Downloads includes it. An unknown or deleted
// file, or one of another session, is transcript.ErrNotFound.
func (s *FileStore) File(ctx context.Context, sessionID, fileID string, download bool) (transcript.File, []byte, error) {
	query := `SELECT ` + fileCols + `, data FROM files WHERE id = $1 AND session_id = $2 AND NOT deleted`
	if download {
		query = `UPDATE files SET downloads = downloads + 1 WHERE id = $1 AND session_id = $2 AND NOT deleted
			RETURNING ` + fileCols + `, data`
	}
	var data []byte
	f, err := scanFile(s.pool.QueryRow(ctx, query, fileID, sessionID), &data)
	if errors.Is(err, pgx.ErrNoRows) {
		err = transcript.ErrNotFound
	}
	if err != nil {
		return transcript.File{}, nil, fmt.Errorf("postgres: file %s of %s: %w", fileID, sessionID, err)
	}
	return f, data, nil
}

// DeleteFile marks a live file of the session deleted and drops its content;
// an unknown or already deleted file is transcript.ErrNotFound.
func (s *FileStore) DeleteFile(ctx context.Context, sessionID, fileID string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE files SET deleted = true, data = NULL
		WHERE id = $1 AND session_id = $2 AND NOT deleted`, fileID, sessionID)
	if err == nil && tag.RowsAffected() == 0 {
		err = transcript.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres: delete file %s of %s: %w", fileID, sessionID, err)
	}
	return nil
}

// SessionFiles lists a session's files without their content, deleted ones
// included, oldest first (upload order within one millisecond).
func (s *FileStore) SessionFiles(ctx context.Context, sessionID string) ([]transcript.File, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+fileCols+` FROM files
		WHERE session_id = $1 ORDER BY created_at, seq`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("postgres: files of %s: %w", sessionID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (transcript.File, error) { return scanFile(row, nil) })
	if err != nil {
		return nil, fmt.Errorf("postgres: files of %s: %w", sessionID, err)
	}
	return out, nil
}

// DeleteSessionFiles removes every file of a session, rows and content.
func (s *FileStore) DeleteSessionFiles(ctx context.Context, sessionID string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM files WHERE session_id = $1`, sessionID); err != nil {
		return fmt.Errorf("postgres: delete files of %s: %w", sessionID, err)
	}
	return nil
}

// scanFile reads a row of fileCols, followed by the content into data when
// data is not nil.
func scanFile(row pgx.Row, data *[]byte) (transcript.File, error) {
	var f transcript.File
	var created int64
	dest := []any{&f.ID, &f.SessionID, &f.Name, &f.ContentType, &f.Description, &f.Size,
		&f.UploadedBy, &created, &f.Downloads, &f.Deleted}
	if data != nil {
		dest = append(dest, data)
	}
	if err := row.Scan(dest...); err != nil {
		return transcript.File{}, err
	}
	f.CreatedAt = time.UnixMilli(created).UTC()
	if data != nil && *data == nil {
		*data = []byte{} // an empty file, as distinct from no content
	}
	return f, nil
}

var _ transcript.FileStore = (*FileStore)(nil)

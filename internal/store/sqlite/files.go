package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// FileStore keeps the files clients upload into sessions. It is safe for
// concurrent use.
type FileStore struct {
	db *sql.DB
	w  *writer
}

// fileCols are the columns scanFile reads, in its order.
const fileCols = `id, session_id, name, content_type, description, size, uploaded_by, created_at, downloads, deleted`

// PutFile stores a new file and its content. A taken id is
// transcript.ErrExists.
func (s *FileStore) PutFile(ctx context.Context, f transcript.File, data []byte) error {
	if data == nil {
		data = []byte{} // NULL content marks a deleted file
	}
	err := s.w.do(ctx, func(ctx context.Context, tx *batchTx) error {
		res, err := tx.exec(ctx, `INSERT INTO files (`+fileCols+`, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?) ON CONFLICT (id) DO NOTHING`,
			f.ID, f.SessionID, f.Name, f.ContentType, f.Description, f.Size, f.UploadedBy, f.CreatedAt.UnixMilli(), data)
		if err != nil {
			return err
		}
		return affected(res, transcript.ErrExists)
	})
	if err != nil {
		return fmt.Errorf("sqlite: put file %s: %w", f.ID, err)
	}
	return nil
}

// File returns a live file of the session and its content. With download it
// counts one download, in the same statement, so concurrent downloads are
// all counted; the returned Downloads includes it. An unknown or deleted
// file, or one of another session, is transcript.ErrNotFound.
func (s *FileStore) File(ctx context.Context, sessionID, fileID string, download bool) (transcript.File, []byte, error) {
	var f transcript.File
	var data []byte
	var err error
	if download {
		err = s.w.do(ctx, func(ctx context.Context, tx *batchTx) error {
			var err error
			f, err = scanFile(tx.queryRow(ctx, `UPDATE files SET downloads = downloads + 1
				WHERE id = ? AND session_id = ? AND deleted = 0 RETURNING `+fileCols+`, data`, fileID, sessionID), &data)
			return err
		})
	} else {
		f, err = scanFile(s.db.QueryRowContext(ctx, `SELECT `+fileCols+`, data FROM files
			WHERE id = ? AND session_id = ? AND deleted = 0`, fileID, sessionID), &data)
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = transcript.ErrNotFound
	}
	if err != nil {
		return transcript.File{}, nil, fmt.Errorf("sqlite: file %s of %s: %w", fileID, sessionID, err)
	}
	return f, data, nil
}

// DeleteFile marks a live file of the session deleted and drops its content;
// an unknown or already deleted file is transcript.ErrNotFound.
func (s *FileStore) DeleteFile(ctx context.Context, sessionID, fileID string) error {
	err := s.w.do(ctx, func(ctx context.Context, tx *batchTx) error {
		res, err := tx.exec(ctx, `UPDATE files SET deleted = 1, data = NULL
			WHERE id = ? AND session_id = ? AND deleted = 0`, fileID, sessionID)
		if err != nil {
			return err
		}
		return affected(res, transcript.ErrNotFound)
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete file %s of %s: %w", fileID, sessionID, err)
	}
	return nil
}

// SessionFiles lists a session's files without their content, deleted ones
// included, oldest first (upload order within one millisecond).
func (s *FileStore) SessionFiles(ctx context.Context, sessionID string) ([]transcript.File, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+fileCols+` FROM files
		WHERE session_id = ? ORDER BY created_at, rowid`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: files of %s: %w", sessionID, err)
	}
	defer rows.Close()
	var out []transcript.File
	for rows.Next() {
		f, err := scanFile(rows, nil)
		if err != nil {
			return nil, fmt.Errorf("sqlite: files of %s: %w", sessionID, err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: files of %s: %w", sessionID, err)
	}
	return out, nil
}

// DeleteSessionFiles removes every file of a session, rows and content.
func (s *FileStore) DeleteSessionFiles(ctx context.Context, sessionID string) error {
	err := s.w.do(ctx, func(ctx context.Context, tx *batchTx) error {
		_, err := tx.exec(ctx, `DELETE FROM files WHERE session_id = ?`, sessionID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete files of %s: %w", sessionID, err)
	}
	return nil
}

// scanFile reads a row of fileCols, followed by the content into data when
// data is not nil.
func scanFile(row interface{ Scan(...any) error }, data *[]byte) (transcript.File, error) {
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

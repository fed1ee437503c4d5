package transcript

import (
	"context"
	"time"
)

// File is a file a party uploaded into a session (GMS file transfer).
type File struct {
	ID          string
	SessionID   string
	Name        string
	ContentType string
	Description string
	Size        int64
	// UploadedBy is the userId of the party that uploaded it.
	UploadedBy string
	CreatedAt  time.Time
	// Downloads counts the downloads so far (for download-attempts).
	Downloads int
	// Deleted marks a file removed by a party; its content is gone.
	Deleted bool
}

// FileStore keeps the files of sessions in the database, so that any chat
// server serves them after a failover. Implementations are safe for
// concurrent use.
type FileStore interface {
	// PutFile stores a new file and its content. f.ID must be unique.
	PutFile(ctx context.Context, f File, data []byte) error
	// File returns a file and its content, counting one download when
	// download is true. It returns ErrNotFound for an unknown or deleted file
	// or a file of another session.
	File(ctx context.Context, sessionID, fileID string, download bool) (File, []byte, error)
	// DeleteFile marks a file deleted and drops its content, or ErrNotFound.
	DeleteFile(ctx context.Context, sessionID, fileID string) error
	// SessionFiles lists a session's files, deleted ones included, oldest first.
	SessionFiles(ctx context.Context, sessionID string) ([]File, error)
	// DeleteSessionFiles removes every file of a session (after its end,
	// once the final transcript is filed).
	DeleteSessionFiles(ctx context.Context, sessionID string) error
}

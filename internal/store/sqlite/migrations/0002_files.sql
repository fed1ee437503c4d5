-- Files clients upload into a session (GMS file transfer). There is no
-- foreign key to sessions: a session's header row may be gone (it is deleted
-- at the end, and never written with transcript-auto-save = 0) while its
-- files are still served. A deleted file keeps its row, so that the session's
-- file list still shows it, and loses its content (data NULL).
CREATE TABLE files (
    id           TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    size         INTEGER NOT NULL,
    uploaded_by  TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    downloads    INTEGER NOT NULL DEFAULT 0,
    deleted      INTEGER NOT NULL DEFAULT 0,
    data         BLOB
);

CREATE INDEX files_session ON files (session_id, created_at);

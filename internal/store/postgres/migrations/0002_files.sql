-- Files clients upload into a session (GMS file transfer). There is no
-- foreign key to sessions: a session's header row may be gone (it is deleted
-- at the end, and never written with transcript-auto-save = 0) while its
-- files are still served. A deleted file keeps its row, so that the session's
-- file list still shows it, and loses its content (data NULL). seq orders
-- files uploaded in the same millisecond.
CREATE TABLE files (
    id           text PRIMARY KEY,
    seq          bigint GENERATED ALWAYS AS IDENTITY,
    session_id   text NOT NULL,
    name         text NOT NULL,
    content_type text NOT NULL DEFAULT '',
    description  text NOT NULL DEFAULT '',
    size         bigint NOT NULL,
    uploaded_by  text NOT NULL DEFAULT '',
    created_at   bigint NOT NULL,
    downloads    integer NOT NULL DEFAULT 0,
    deleted      boolean NOT NULL DEFAULT false,
    data         bytea
);

CREATE INDEX files_session ON files (session_id, created_at, seq);

-- Intermediate transcripts: one header row per session and an append-only
-- event log keyed by (session, index). Times are UTC epoch milliseconds.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    epoch      INTEGER NOT NULL,
    async      INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    user_data  TEXT NOT NULL DEFAULT '{}',
    last_index INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE INDEX sessions_owner ON sessions (owner);

CREATE TABLE events (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    time_ms    INTEGER NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (session_id, idx)
) WITHOUT ROWID;

-- Contact store: contacts, matched by email when one is given.
CREATE TABLE contacts (
    id         TEXT PRIMARY KEY,
    first_name TEXT NOT NULL DEFAULT '',
    last_name  TEXT NOT NULL DEFAULT '',
    email      TEXT NOT NULL DEFAULT '',
    nickname   TEXT NOT NULL DEFAULT ''
);

CREATE UNIQUE INDEX contacts_email ON contacts (email) WHERE email <> '';

CREATE TABLE interactions (
    id              TEXT PRIMARY KEY,
    contact_id      TEXT NOT NULL REFERENCES contacts (id),
    media_type      TEXT NOT NULL DEFAULT '',
    type_id         TEXT NOT NULL DEFAULT '',
    subtype_id      TEXT NOT NULL DEFAULT '',
    subject         TEXT NOT NULL DEFAULT '',
    started_at      INTEGER,
    ended_at        INTEGER,
    owner           TEXT NOT NULL DEFAULT '',
    parties         TEXT NOT NULL DEFAULT '[]',
    user_data       TEXT NOT NULL DEFAULT '{}',
    transcript_xml  TEXT NOT NULL DEFAULT '',
    transcript_json TEXT NOT NULL DEFAULT ''
);

CREATE INDEX interactions_contact ON interactions (contact_id, started_at);

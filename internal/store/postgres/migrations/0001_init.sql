-- Intermediate transcripts: one header row per session and an append-only
-- event log keyed by (session, index). Event times are UTC epoch milliseconds.
CREATE TABLE sessions (
    id         text PRIMARY KEY,
    owner      text NOT NULL,
    epoch      bigint NOT NULL,
    async      boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    user_data  jsonb NOT NULL DEFAULT '{}',
    last_index bigint NOT NULL DEFAULT 0
);

CREATE INDEX sessions_owner ON sessions (owner);

CREATE TABLE events (
    session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    idx        bigint NOT NULL,
    time_ms    bigint NOT NULL,
    data       jsonb NOT NULL,
    PRIMARY KEY (session_id, idx)
);

-- Contact store: contacts, matched by email when one is given.
CREATE TABLE contacts (
    id         text PRIMARY KEY,
    first_name text NOT NULL DEFAULT '',
    last_name  text NOT NULL DEFAULT '',
    email      text NOT NULL DEFAULT '',
    nickname   text NOT NULL DEFAULT ''
);

CREATE UNIQUE INDEX contacts_email ON contacts (email) WHERE email <> '';

CREATE TABLE interactions (
    id              text PRIMARY KEY,
    contact_id      text NOT NULL REFERENCES contacts (id),
    media_type      text NOT NULL DEFAULT '',
    type_id         text NOT NULL DEFAULT '',
    subtype_id      text NOT NULL DEFAULT '',
    subject         text NOT NULL DEFAULT '',
    started_at      timestamptz,
    ended_at        timestamptz,
    owner           text NOT NULL DEFAULT '',
    parties         jsonb NOT NULL DEFAULT '[]',
    user_data       jsonb NOT NULL DEFAULT '{}',
    transcript_xml  text NOT NULL DEFAULT '',
    transcript_json text NOT NULL DEFAULT ''
);

CREATE INDEX interactions_contact ON interactions (contact_id, started_at);

-- Contact store: the standard responses (canned replies) agents insert.
CREATE TABLE standard_responses (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE INDEX standard_responses_name ON standard_responses (name);

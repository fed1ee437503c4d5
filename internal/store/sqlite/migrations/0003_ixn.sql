-- Interaction server: the live interactions, each a JSON record with its
-- state and queue beside it for inspection, and the reporting event log.
-- Times are UTC epoch milliseconds.
CREATE TABLE ixn_interactions (
    id           TEXT PRIMARY KEY,
    state        TEXT NOT NULL,
    queue        TEXT NOT NULL,
    submitted_at INTEGER NOT NULL,
    record       TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX ixn_interactions_queue ON ixn_interactions (queue, state);

CREATE TABLE ixn_events (
    id      INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    name    TEXT NOT NULL,
    body    TEXT NOT NULL
);

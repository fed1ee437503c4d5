-- Interaction server: the live interactions, each a JSON record with its
-- state and queue beside it for inspection, and the reporting event log.
-- An event body is json, not jsonb, so that it is replayed byte for byte.
CREATE TABLE ixn_interactions (
    id           text PRIMARY KEY,
    state        text NOT NULL,
    queue        text NOT NULL,
    submitted_at timestamptz NOT NULL,
    record       jsonb NOT NULL
);

CREATE INDEX ixn_interactions_queue ON ixn_interactions (queue, state);

CREATE TABLE ixn_events (
    id      bigint PRIMARY KEY,
    time_ms bigint NOT NULL,
    name    text NOT NULL,
    body    json NOT NULL
);

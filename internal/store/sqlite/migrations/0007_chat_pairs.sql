-- Which member of a warm-standby pair of chat servers is the primary. pair is
-- the configured primary's application name; epoch rises by one at each
-- change (a takeover or a switchover), so that of two members taking the role
-- at once exactly one wins. updated_at is in ms since the epoch.
CREATE TABLE chat_pairs (
    pair           TEXT PRIMARY KEY,
    primary_member TEXT NOT NULL,
    epoch          INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

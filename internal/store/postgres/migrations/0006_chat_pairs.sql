-- Which member of a warm-standby pair of chat servers is the primary. pair is
-- the configured primary's application name; epoch rises by one at each
-- change (a takeover or a switchover), so that of two members taking the role
-- at once exactly one wins.
CREATE TABLE chat_pairs (
    pair           text PRIMARY KEY,
    primary_member text NOT NULL,
    epoch          bigint NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Contact store: the standard responses (canned replies) agents insert.
CREATE TABLE standard_responses (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    body       text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX standard_responses_name ON standard_responses (name);

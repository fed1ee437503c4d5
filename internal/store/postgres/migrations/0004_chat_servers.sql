-- Chat server state an operator sets and a restart must keep: disabled means
-- POST /admin/disable, the server takes no new chats. A server without a row
-- is enabled.
CREATE TABLE chat_servers (
    name       text PRIMARY KEY,
    disabled   boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);

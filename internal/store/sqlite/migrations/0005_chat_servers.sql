-- Chat server state an operator sets and a restart must keep: disabled means
-- POST /admin/disable, the server takes no new chats. A server without a row
-- is enabled. updated_at is in ms since the epoch, for the administrator.
CREATE TABLE chat_servers (
    name       TEXT PRIMARY KEY,
    disabled   INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);

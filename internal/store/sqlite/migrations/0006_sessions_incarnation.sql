-- The owner's process: a chat server takes a random incarnation at start and
-- stores it with each session it creates or claims, so that a restore never
-- defers to a process of the same name that was restarted and so does not
-- hold the session. Sessions stored before keep '' (no process holds them).
ALTER TABLE sessions ADD COLUMN incarnation TEXT NOT NULL DEFAULT '';

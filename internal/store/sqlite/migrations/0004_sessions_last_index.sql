-- An append fences on the session's epoch and its greatest stored index, read
-- in the inserting statement, so the session row is no longer written for
-- every event. The column goes, so that an older parley, which trusted it,
-- fails on this file instead of appending past it.
ALTER TABLE sessions DROP COLUMN last_index;

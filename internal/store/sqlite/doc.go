// Package sqlite implements parley's stores on an embedded SQLite database
// (modernc.org/sqlite, no cgo): the intermediate transcript store
// (transcript.Store) with group-committed appends, and the contact store
// (contact.Store). It owns the SQLite schema and its embedded migrations.
//
// Several processes on one host may open the same file: the database runs in
// WAL mode, every write transaction begins IMMEDIATE (it takes the write lock
// up front, so two writers never deadlock upgrading a read lock), and a busy
// timeout of several seconds makes a writer wait for the lock instead of
// failing.
package sqlite

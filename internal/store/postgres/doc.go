// Package postgres implements parley's stores on PostgreSQL through pgx/v5
// (pgxpool): the intermediate transcript store (transcript.Store) with
// group-committed appends, and the contact store (contact.Store). It owns the
// PostgreSQL schema and its embedded migrations; the tables live in the first
// schema of the connection's search_path, which the DSN may set.
package postgres

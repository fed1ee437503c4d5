// Package storemigrate reads the numbered schema migrations that every store
// backend embeds (NNNN_what.sql). Applying them is each backend's own
// business: the SQL dialect and the locking differ.
package storemigrate

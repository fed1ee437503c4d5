// Package deploy holds parley's example deployment files and embeds them in
// the binary: Embedded is the built-in deployment `parley up` runs when given
// no --config, Postgres the same servers on a PostgreSQL database. The files
// themselves (embedded.yaml, postgres.yaml) are meant to be copied and edited.
package deploy

// Package deploy holds parley's example deployment files and embeds them in
// the binary: Embedded is the built-in deployment `parley up` runs when given
// no --config, Postgres the same servers on a PostgreSQL database. The files
// themselves (embedded.yaml, postgres.yaml) are meant to be copied and edited.
//
// Beside them, not embedded: the Helm chart (helm/parley), the systemd units
// (systemd) and the image build script (build-image.sh); docs/deploy.md
// describes them, and this package's tests render, lint and verify them.
package deploy

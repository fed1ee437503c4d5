// Package cli is the parley command: its subcommands (up, run, check-config,
// bench, bench report, hash-password, certs, client-key, admin-token,
// version, help), their flags and usage texts, and the one place that wires an
// application together, in order: deployment file, logger, stores, role, run.
//
// `parley run` runs one application in the foreground. `parley up` runs every
// application of a deployment as a child process of the same binary
// (`parley run --config FILE --app NAME`), prefixes each child's output with
// its name, keeps a pid file per child under <data-dir>/run, reports each one
// when its /healthz answers, and stops them all with SIGTERM, then SIGKILL
// after a grace period, when it is interrupted. `parley bench` runs the load
// generator of internal/bench against a deployment it spawns or a running one.
//
// Exit codes: 0 success, 1 failure, 2 usage error. Errors are printed to
// stderr as lines starting with "parley: ".
package cli

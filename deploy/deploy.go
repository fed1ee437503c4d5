package deploy

import _ "embed" // for go:embed

// Embedded is embedded.yaml: SQLite under ./parley-data and two chat servers.
//
//go:embed embedded.yaml
var Embedded []byte

// Postgres is postgres.yaml: the same chat servers on a local PostgreSQL.
//
//go:embed postgres.yaml
var Postgres []byte

// Cluster is cluster.yaml: an interaction server cluster of two nodes
// behind two proxies.
//
//go:embed cluster.yaml
var Cluster []byte

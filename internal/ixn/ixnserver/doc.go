// Package ixnserver owns the interaction-server role: it puts the ixn engine
// on the network and a store. It serves GET /healthz, GET /metrics and the
// wire protocol at /wire/ixn for media servers (chat servers), agent
// desktops, routing clients and reporting clients; it keeps which connection
// is which client or agent, runs the one timer that drives invitation
// timeouts and view checks, and writes every change to the store before
// acknowledging it. See docs/ixn.md for the requests and their bodies.
package ixnserver

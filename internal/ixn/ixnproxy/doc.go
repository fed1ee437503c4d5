// Package ixnproxy is the interaction-proxy role: it connects to every node
// of an interaction server cluster (each a primary/backup pair on its own
// database) and presents them to its clients as one interaction server on
// /wire/ixn. It keeps no persistent state: a client's connection has one
// connection of its own to each node (a leg), registered there under the
// client's name and type, so every node sends the client its own events;
// requests go to the node they concern, found by interaction id (a cache
// that starts empty, else asking every node), agent, tenant and media type.
// See docs/ixn.md, "Cluster".
package ixnproxy

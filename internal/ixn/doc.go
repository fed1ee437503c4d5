// Package ixn owns the interaction server's rules: interactions and their
// properties, queues, views and their condition language, agents with their
// capacity, skills and ready state, workbins, the built-in router, and the
// reporting event log.
//
// The Engine is a deterministic state machine: no I/O, no goroutines, and
// time passed in by the caller. Each operation either fails with an error
// wrapping one of the sentinels below and changes nothing, or succeeds and
// returns an Output: the interactions to save or delete, the reporting events
// to append (in order, with increasing ids) and the notices to send. The
// interaction server role (ixn/ixnserver) persists the Output through a Store
// and then sends the notices.
package ixn

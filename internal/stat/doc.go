// Package stat is the Stat Server's model: the objects statistics are about
// (agents, agent groups, queues, the tenant), the actions the interaction
// server's reporting stream implies for each of them, stat types as
// configured (Category, MainMask, RelMask, Subject, Objects), time profiles
// (Growing, Sliding, Selection) and time ranges, the current and historical
// aggregates computed from them, and when a client is notified of a value.
//
// Everything here is pure: no I/O, no goroutines, time passed in. The
// stat-server role (stat/statserver) feeds the Engine the reporting events,
// in stream order, and asks it for values; see docs/stat.md.
package stat

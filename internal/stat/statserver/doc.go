// Package statserver is the stat-server role: it follows the reporting
// stream of its interaction servers (Source), keeps the stat engine, serves
// its clients the statistics they open on /wire/stat (and the GMS-style
// POST /genesys/1/statistic and the wallboard), and replicates statistics
// and their historical aggregates with the other server of a hot standby
// pair on /wire/stat-ha. See docs/stat.md.
package statserver

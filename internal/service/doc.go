// Package service is the lifecycle every parley application shares: a
// Service runs until its context is cancelled, a Group runs several together
// and stops them all when one fails, and ServeHTTP and NewMux give each role
// an HTTP listener with a graceful, bounded shutdown and the /healthz and
// /metrics endpoints every listener serves.
package service

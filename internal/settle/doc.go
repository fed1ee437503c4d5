// Package settle is for tests that wait for asynchronous work to settle: a
// condition that comes to hold, goroutines that end.
package settle

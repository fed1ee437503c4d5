// Package groupcommit batches writes from many goroutines into few
// transactions. A Committer owns one goroutine that takes pending items off a
// queue, hands them to a commit function as one batch, and completes each
// caller with its own result. While one batch commits, the next accumulates,
// so batches grow with load and a lone writer pays no extra latency; under
// load a batch may also linger a little to gather more.
package groupcommit

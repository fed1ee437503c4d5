package settle

import (
	"runtime"
	"testing"
	"time"
)

// Poll checks cond every few milliseconds until it holds (true) or d passes.
func Poll(d time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
		}
	}
	return true
}

// Eventually fails t unless cond comes to hold within d; what names the
// condition in the failure.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(d, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// NoLeaks fails t if goroutines started during it are still running 5 s
// after it ends. Call it first in the test, so that its cleanup runs last.
func NoLeaks(t testing.TB) {
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		if !Poll(5*time.Second, func() bool { return runtime.NumGoroutine() <= base }) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutine leak: %d > %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
	})
}

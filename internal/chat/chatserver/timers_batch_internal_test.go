package chatserver

import (
	"testing"
	"time"
)

// TestSchedulerDueInBatches makes 100 sessions due at once: they come out
// timerBatch at a time, each pass saying more are due, then the next
// deadline.
func TestSchedulerDueInBatches(t *testing.T) {
	sc := newScheduler()
	now := time.Unix(1_700_000_000, 0)
	for range 100 {
		sc.set(&entry{}, now)
	}
	later := now.Add(time.Minute)
	sc.set(&entry{}, later)
	fired, passes := 0, 0
	for {
		es, next := sc.due(now, timerBatch)
		fired, passes = fired+len(es), passes+1
		if next.After(now) {
			if fired != 100 || passes != 4 || !next.Equal(later) {
				t.Fatalf("%d fired in %d passes, next %v; want 100 in 4, next %v", fired, passes, next, later)
			}
			return
		}
		if len(es) != timerBatch {
			t.Fatalf("pass %d fired %d with more due, want %d", passes, len(es), timerBatch)
		}
	}
}

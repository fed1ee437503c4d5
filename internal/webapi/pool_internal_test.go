package webapi

import (
	"math"
	"testing"
)

// TestLoadBoundsReportedSessions: no session count a chat server reports
// makes it look less loaded than an idle one, however large or negative.
func TestLoadBoundsReportedSessions(t *testing.T) {
	idle := &chatServer{created: 1}
	idleLoad, _ := idle.load()
	for _, reported := range []int64{math.MaxInt64, math.MaxInt64 - 1, maxReportedSessions + 1} {
		cs := &chatServer{status: serverStatus{SessionsCurrent: reported}, created: math.MaxInt32}
		if load, _ := cs.load(); load <= idleLoad {
			t.Errorf("reported %d sessions: load %d, not above an idle server's %d", reported, load, idleLoad)
		}
	}
	cs := &chatServer{status: serverStatus{SessionsCurrent: math.MinInt64}, created: 1}
	if load, _ := cs.load(); load != idleLoad {
		t.Errorf("reported a negative count: load %d, want an idle server's %d", load, idleLoad)
	}
}

package chatserver

import (
	"log/slog"
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/config"
)

// TestHealthReport: which metrics a [health-service] line holds, and when
// one is due.
func TestHealthReport(t *testing.T) {
	prev := map[string]int64{"a": 1, "b": 0, "c": 2}
	same := map[string]int64{"a": 1, "b": 0, "c": 2}
	moved := map[string]int64{"a": 1, "b": 0, "c": 3}
	for _, tc := range []struct {
		cur              map[string]int64
		proviso, content string
		want             []string // the names logged
		due              bool
	}{
		{moved, "update", "set", []string{"a", "c"}, true},
		{moved, "update", "new", []string{"c"}, true},
		{moved, "update", "all", []string{"a", "b", "c"}, true},
		{same, "update", "all", nil, false},
		{same, "always", "set", []string{"a", "c"}, true},
		{same, "always", "new", nil, true},
	} {
		attrs, due := healthReport(tc.cur, prev, config.HealthService{LogOutputTimeout: 1, LogOutputProviso: tc.proviso, LogOutputContent: tc.content})
		var names []string
		for _, a := range attrs {
			names = append(names, a.Key)
			if a.Value.Kind() != slog.KindInt64 || a.Value.Int64() != tc.cur[a.Key] {
				t.Errorf("%s/%s: %v", tc.proviso, tc.content, a)
			}
		}
		if due != tc.due || (due && !slices.Equal(names, tc.want)) {
			t.Errorf("%s/%s: %v, due %v; want %v, due %v", tc.proviso, tc.content, names, due, tc.want, tc.due)
		}
	}
}

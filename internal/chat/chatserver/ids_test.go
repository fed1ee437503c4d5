package chatserver

import (
	"regexp"
	"testing"
	"time"
)

// TestSessionIDsSortByCreation checks the id format and that ids of later
// milliseconds sort after earlier ones, whatever their random part.
func TestSessionIDsSortByCreation(t *testing.T) {
	format := regexp.MustCompile(`^[0-9A-F]{16}$`)
	t0 := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)
	prev := ""
	seen := make(map[string]bool)
	for i := range 1000 {
		id := newSessionID(t0.Add(time.Duration(i/4) * time.Millisecond))
		if !format.MatchString(id) {
			t.Fatalf("id %q is not 16 upper-case hex characters", id)
		}
		if seen[id] {
			t.Fatalf("id %q drawn twice", id)
		}
		seen[id] = true
		if i%4 == 0 && id <= prev {
			t.Fatalf("id %q of a later millisecond sorts before %q", id, prev)
		}
		prev = id
	}
}

package contact

import (
	"regexp"
	"testing"
	"testing/synctest"
	"time"
)

func TestNewID(t *testing.T) {
	format := regexp.MustCompile(`^[0-9A-Za-z]{16}$`)
	seen := make(map[string]bool)
	prev := NewID()
	for range 10000 {
		id := NewID()
		if !format.MatchString(id) {
			t.Fatalf("id %q: want 16 letters and digits", id)
		}
		if seen[id] {
			t.Fatalf("id %q twice", id)
		}
		seen[id] = true
		if id[:8] < prev[:8] {
			t.Fatalf("id %q after %q: its time went back", id, prev)
		}
		prev = id
	}
	synctest.Test(t, func(t *testing.T) {
		before := NewID()
		time.Sleep(time.Millisecond) // the bubble's clock: no wait
		if after := NewID(); after <= before {
			t.Errorf("id %q made a millisecond after %q sorts before it", after, before)
		}
	})
}

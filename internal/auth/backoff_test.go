package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	b := &Backoff{Free: 3, Base: time.Second, Max: 8 * time.Second, MaxKeys: 100}
	for i := range 3 {
		b.Fail("alice", t0)
		if w := b.Wait("alice", t0); w != 0 {
			t.Fatalf("after %d free failures: wait %v", i+1, w)
		}
	}
	for i, want := range []time.Duration{1, 2, 4, 8, 8} {
		b.Fail("alice", t0)
		if w := b.Wait("alice", t0); w != want*time.Second {
			t.Errorf("after failure %d past the free ones: wait %v, want %v", i+1, w, want*time.Second)
		}
	}
	if w := b.Wait("alice", t0.Add(8*time.Second)); w != 0 {
		t.Errorf("once the wait is over: %v", w)
	}
	if w := b.Wait("bob", t0); w != 0 {
		t.Errorf("another key: wait %v", w)
	}
	b.Succeed("alice")
	b.Fail("alice", t0)
	if w := b.Wait("alice", t0); w != 0 {
		t.Errorf("after a success the free failures are back: wait %v", w)
	}
}

// TestBackoffBounded fails 10,000 keys: the table keeps at most MaxKeys.
func TestBackoffBounded(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	b := &Backoff{Free: 0, Base: time.Second, Max: time.Minute, MaxKeys: 100}
	for i := range 10000 {
		b.Fail(fmt.Sprint("guess-", i), t0.Add(time.Duration(i)*time.Millisecond))
	}
	if n := len(b.keys); n > 100 {
		t.Errorf("%d keys kept, want at most 100", n)
	}
}

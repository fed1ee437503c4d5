package bench

import (
	"testing"
	"time"
)

func TestMessageTextRoundTrip(t *testing.T) {
	at := time.Unix(1795303650, 123456789)
	seq, sent, ok := parseText(messageText(3, at))
	if !ok || seq != 3 || !sent.Equal(at) {
		t.Fatalf("parseText = %d %v %v", seq, sent, ok)
	}
	for _, bad := range []string{"", "hello", "bench seq=x t=1", "bench seq=0 t=1", "bench seq=2"} {
		if _, _, ok := parseText(bad); ok {
			t.Errorf("parseText(%q) accepted", bad)
		}
	}
}

func TestTrackerFindsLossesDuplicatesAndDisorder(t *testing.T) {
	tr := newTracker(3)
	for seq := 1; seq <= 3; seq++ {
		tr.ack(seq)
	}
	if dup, re := tr.receive(2); dup || re {
		t.Error("first receipt of 2 flagged")
	}
	if dup, re := tr.receive(1); dup || !re {
		t.Errorf("1 after 2: dup %v reordered %v", dup, re)
	}
	if dup, _ := tr.receive(2); !dup {
		t.Error("second receipt of 2 not a duplicate")
	}
	if dup, _ := tr.receive(9); !dup {
		t.Error("a number never sent is not flagged")
	}
	if n := tr.missing(); n != 1 {
		t.Errorf("missing = %d, want 1 (message 3)", n)
	}
}

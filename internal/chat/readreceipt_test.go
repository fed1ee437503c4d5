package chat

import (
	"errors"
	"testing"

	"github.com/parley-chat/parley/internal/transcript"
)

// TestReadReceipt: a client's read receipt is an INT event for the agents,
// never stored and no inactivity activity; positions outside the
// transcript and receipts of other parties are refused.
func TestReadReceipt(t *testing.T) {
	tm := newTimed(t, idleOnly(), false)
	tm.join("c", transcript.Client)
	tm.join("a", transcript.Agent)
	tm.send("a", "hello")
	last := tm.s.NextPosition() - 1
	tm.advance(200 * sec)
	st, err := tm.s.Notify(tm.now, "c", Notice{Type: transcript.ReadReceipt, UserData: map[string]string{ReadPositionKey: itoa(int64(last))}})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Events) != 1 || len(st.Store) != 0 {
		t.Fatalf("step %+v, want one unstored event", st)
	}
	if e := st.Events[0]; e.Type != transcript.ReadReceipt || e.Visibility != transcript.VisInt || e.UserData[ReadPositionKey] != itoa(int64(last)) {
		t.Errorf("event %+v", e)
	}
	if st, _ := tm.advance(55 * sec); len(notices(st)) != 1 {
		t.Errorf("the receipt restarted the inactivity countdown: %+v", st.Events)
	}
	for _, tt := range []struct {
		from, pos string
		want      error
	}{
		{"c", "0", ErrInvalid}, {"c", "999", ErrInvalid}, {"c", "x", ErrInvalid}, {"a", "1", ErrNotAllowed},
	} {
		if _, err := tm.s.Notify(tm.now, tt.from, Notice{Type: transcript.ReadReceipt, UserData: map[string]string{ReadPositionKey: tt.pos}}); !errors.Is(err, tt.want) {
			t.Errorf("receipt of %s at %s: %v, want %v", tt.from, tt.pos, err, tt.want)
		}
	}
}

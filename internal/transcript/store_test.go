package transcript

import (
	"errors"
	"testing"
)

func TestCheckOrder(t *testing.T) {
	ev := func(idx ...int) []Event {
		out := make([]Event, len(idx))
		for i, n := range idx {
			out[i].Index = n
		}
		return out
	}
	if err := CheckOrder(ev(1, 2, 5)); err != nil {
		t.Errorf("increasing, with a gap: %v", err)
	}
	for _, bad := range [][]Event{ev(2, 2), ev(3, 1)} {
		if err := CheckOrder(bad); !errors.Is(err, ErrIndexConflict) {
			t.Errorf("%v: got %v, want ErrIndexConflict", bad, err)
		}
	}
}

func TestUserDataRoundTrip(t *testing.T) {
	for _, m := range []map[string]string{nil, {}, {"a": "1"}} {
		data, err := EncodeUserData(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeUserData(data)
		if err != nil {
			t.Fatal(err)
		}
		if len(m) == 0 && (string(data) != "{}" || got != nil) || len(m) > 0 && got["a"] != "1" {
			t.Errorf("%v: encoded %s, decoded %v", m, data, got)
		}
	}
	if got, err := DecodeUserData([]byte("null")); err != nil || got != nil {
		t.Errorf("null: %v, %v", got, err)
	}
}

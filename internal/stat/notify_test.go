package stat

import (
	"errors"
	"testing"
	"time"
)

func TestWatch(t *testing.T) {
	type step struct {
		s    int
		v    float64
		want bool
	}
	for _, c := range []struct {
		name  string
		n     Notification
		steps []step
	}{
		{"immediate", Notification{Mode: Immediate}, []step{{0, 1, true}, {1, 1, false}, {2, 2, true}, {3, 2, false}}},
		{"insensitivity", Notification{Mode: Immediate, Insensitivity: 5}, []step{{0, 0, true}, {1, 4, false}, {2, 5, true}, {3, 1, false}, {4, 0, true}}},
		{"periodical", Notification{Mode: Periodical, Frequency: 10 * time.Second}, []step{{0, 1, false}, {9, 1, false}, {10, 1, true}, {11, 2, false}, {35, 2, true}, {39, 2, false}, {40, 3, true}}},
		{"no notification", Notification{Mode: NoNotification}, []step{{0, 1, false}, {10, 2, false}}},
		{"reset", Notification{Mode: Reset}, []step{{0, 1, false}, {10, 2, false}}},
	} {
		w := NewWatch(c.n, t0)
		for _, s := range c.steps {
			if got := w.Due(Value{Number: s.v}, at(s.s)); got != s.want {
				t.Errorf("%s: Due(%v at +%d) = %v; want %v", c.name, s.v, s.s, got, s.want)
			}
		}
	}
	w := NewWatch(Notification{Mode: Immediate, Insensitivity: 100}, t0)
	w.Due(Value{State: "WaitForNextCall"}, t0)
	if !w.Due(Value{State: "CallInbound"}, t0) {
		t.Error("a state change was not due")
	}
}

func TestNotificationCheck(t *testing.T) {
	for _, n := range []Notification{{Mode: "Sometimes"}, {Mode: Periodical}, {Mode: Periodical, Frequency: 25 * time.Hour},
		{Mode: Immediate, Insensitivity: -1}} {
		if err := n.Check(); !errors.Is(err, ErrInvalid) {
			t.Errorf("Check(%+v) = %v; want ErrInvalid", n, err)
		}
	}
	if err := (Notification{Mode: Periodical, Frequency: time.Second}).Check(); err != nil {
		t.Error(err)
	}
}

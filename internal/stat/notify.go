package stat

import (
	"fmt"
	"math"
	"time"
)

// Mode is when a client hears of a statistic's value.
type Mode string

// The notification modes (PSDK names).
const (
	// NoNotification: only when the client asks (RequestGetStatistic).
	NoNotification Mode = "NoNotification"
	// Immediate: when the value changes by at least Insensitivity.
	Immediate Mode = "Immediate"
	// Periodical: every Frequency, changed or not.
	Periodical Mode = "Periodical"
	// Reset: the value just before each reset of a Growing time profile.
	Reset Mode = "Reset"
)

// Limits of a notification.
const (
	MaxFrequency = 24 * time.Hour
	MinFrequency = time.Second
)

// Notification is how a client asked to hear of a statistic.
type Notification struct {
	Mode Mode `json:"mode"`
	// Frequency is a Periodical notification's period, 1 s to 24 h.
	Frequency time.Duration `json:"-"`
	// Insensitivity is the least change an Immediate notification reports;
	// 0 reports every change.
	Insensitivity float64 `json:"insensitivity,omitempty"`
}

// Check validates n.
func (n Notification) Check() error {
	switch n.Mode {
	case NoNotification, Immediate, Reset:
	case Periodical:
		if n.Frequency < MinFrequency || n.Frequency > MaxFrequency {
			return fmt.Errorf("%w: frequency %v: want 1 to 86400 seconds", ErrInvalid, n.Frequency)
		}
	default:
		return fmt.Errorf("%w: notification mode %q: want NoNotification, Immediate, Periodical or Reset", ErrInvalid, n.Mode)
	}
	if n.Insensitivity < 0 || math.IsNaN(n.Insensitivity) || math.IsInf(n.Insensitivity, 0) {
		return fmt.Errorf("%w: insensitivity must be a number >= 0", ErrInvalid)
	}
	return nil
}

// Watch decides when a client hears of one statistic's value.
type Watch struct {
	n    Notification
	sent bool
	last Value
	next time.Time // Periodical: the next report
}

// NewWatch returns the watch of a statistic opened at now with n.
func NewWatch(n Notification, now time.Time) *Watch {
	return &Watch{n: n, next: now.Add(n.Frequency)}
}

// Due reports whether v, the value at now, is to be sent, and records it
// as sent when it is. Reset notifications are sent by the caller at each
// reset (Engine.NextReset); Due never reports them.
func (w *Watch) Due(v Value, now time.Time) bool {
	switch w.n.Mode {
	case Immediate:
		if w.sent && !w.changed(v) {
			return false
		}
	case Periodical:
		if now.Before(w.next) {
			return false
		}
		for !w.next.After(now) {
			w.next = w.next.Add(w.n.Frequency)
		}
	default:
		return false
	}
	w.sent, w.last = true, v
	return true
}

// Next returns when a Periodical watch is next due; false for other modes.
func (w *Watch) Next() (time.Time, bool) { return w.next, w.n.Mode == Periodical }

func (w *Watch) changed(v Value) bool {
	if v.State != w.last.State {
		return true
	}
	d := math.Abs(v.Number - w.last.Number)
	if w.n.Insensitivity == 0 {
		return d != 0
	}
	return d >= w.n.Insensitivity
}

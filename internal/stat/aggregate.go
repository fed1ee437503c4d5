package stat

import (
	"maps"
	"slices"
	"time"
)

// record is one completed action as a statistic counts it.
type record struct {
	Dur  int64 `json:"d"` // milliseconds
	Main bool  `json:"m,omitempty"`
	Rel  bool  `json:"r,omitempty"`
	// In reports whether Dur falls in the statistic's time range.
	In bool `json:"i,omitempty"`
}

// Totals is a historical aggregate: what the completed actions of a
// period add up to. Times are in milliseconds.
type Totals struct {
	Number  int64 `json:"number"`          // MainMask actions
	Time    int64 `json:"time"`            // their total duration
	Max     int64 `json:"max"`             // the longest
	Min     int64 `json:"min"`             // the shortest (0 while Number is 0)
	InRange int64 `json:"inRange"`         // MainMask actions within the time range
	Rel     int64 `json:"rel,omitempty"`   // RelMask actions
	Short   int64 `json:"short,omitempty"` // RelMask actions outside MainMask within the time range
}

// add counts r.
func (t *Totals) add(r record) {
	if r.Main {
		if t.Number == 0 || r.Dur < t.Min {
			t.Min = r.Dur
		}
		t.Number++
		t.Time += r.Dur
		t.Max = max(t.Max, r.Dur)
		if r.In {
			t.InRange++
		}
	}
	if r.Rel {
		t.Rel++
		if !r.Main && r.In {
			t.Short++
		}
	}
}

// sum adds o to t.
func (t *Totals) sum(o Totals) {
	if o.Number > 0 && (t.Number == 0 || o.Min < t.Min) {
		t.Min = o.Min
	}
	t.Number += o.Number
	t.Time += o.Time
	t.Max = max(t.Max, o.Max)
	t.InRange += o.InRange
	t.Rel += o.Rel
	t.Short += o.Short
}

// larger reports whether t has seen more actions than o: of two instances
// that count the same stream, the one that counted longer.
func (t Totals) larger(o Totals) bool {
	return t.Number+t.Rel > o.Number+o.Rel
}

// History is the historical aggregate of one statistic under its time
// profile, in a form that crosses to the HA peer: the current Growing
// period, the Sliding buckets by index (start / step), or the last
// Selection records.
type History struct {
	Period  int64            `json:"period,omitempty"` // Growing: period start, epoch ms
	Current Totals           `json:"current"`          // Growing
	Buckets map[int64]Totals `json:"buckets,omitempty"`
	Records []record         `json:"records,omitempty"`
}

// history keeps a History under a profile.
type history struct {
	p TimeProfile
	h History
}

func newHistory(p TimeProfile) *history {
	return &history{p: p, h: History{Buckets: map[int64]Totals{}}}
}

// add counts r, completed at t.
func (hs *history) add(t time.Time, r record) {
	switch hs.p.Kind {
	case Growing:
		hs.roll(t)
		hs.h.Current.add(r)
	case Sliding:
		i := t.UnixMilli() / hs.p.Step.Milliseconds()
		b := hs.h.Buckets[i]
		b.add(r)
		hs.h.Buckets[i] = b
		hs.prune(t)
	case Selection:
		hs.h.Records = append(hs.h.Records, r)
		if n := len(hs.h.Records); n > hs.p.N {
			hs.h.Records = slices.Delete(hs.h.Records, 0, n-hs.p.N)
		}
	}
}

// roll starts a new Growing period when t is past the current one.
func (hs *history) roll(t time.Time) {
	if start := hs.p.periodStart(t).UnixMilli(); start > hs.h.Period {
		hs.h.Period, hs.h.Current = start, Totals{}
	}
}

// prune drops the Sliding buckets out of the window ending at t.
func (hs *history) prune(t time.Time) {
	first := hs.firstBucket(t)
	for i := range hs.h.Buckets {
		if i < first {
			delete(hs.h.Buckets, i)
		}
	}
}

func (hs *history) firstBucket(t time.Time) int64 {
	step := hs.p.Step.Milliseconds()
	return t.UnixMilli()/step - hs.p.Window.Milliseconds()/step + 1
}

// totals returns the aggregate as of now.
func (hs *history) totals(now time.Time) Totals {
	var t Totals
	switch hs.p.Kind {
	case Growing:
		if hs.p.periodStart(now).UnixMilli() <= hs.h.Period {
			t = hs.h.Current
		}
	case Sliding:
		first := hs.firstBucket(now)
		for i, b := range hs.h.Buckets {
			if i >= first {
				t.sum(b)
			}
		}
	case Selection:
		for _, r := range hs.h.Records {
			t.add(r)
		}
	}
	return t
}

// snapshot returns a copy of the history for the HA peer.
func (hs *history) snapshot() History {
	h := hs.h
	h.Buckets = maps.Clone(h.Buckets)
	h.Records = slices.Clone(h.Records)
	return h
}

// merge takes in what the peer counted: per period or bucket, the larger
// of the two aggregates (both count the same stream, so the larger has
// seen more of it; adding them would count twice). It reports whether it
// took any of the peer's.
func (hs *history) merge(o History, now time.Time) bool {
	took := false
	switch hs.p.Kind {
	case Growing:
		hs.roll(now)
		if o.Period == hs.h.Period && o.Current.larger(hs.h.Current) {
			hs.h.Current, took = o.Current, true
		}
	case Sliding:
		for i, b := range o.Buckets {
			if b.larger(hs.h.Buckets[i]) {
				hs.h.Buckets[i], took = b, true
			}
		}
		hs.prune(now)
	case Selection:
		if len(o.Records) > len(hs.h.Records) && len(o.Records) <= hs.p.N {
			hs.h.Records, took = slices.Clone(o.Records), true
		}
	}
	return took
}

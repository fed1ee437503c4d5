package stat

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ProfileKind is how a time profile bounds historical aggregates.
type ProfileKind string

// The kinds of time profile.
const (
	// Growing: from the last reset point (times of day, UTC) until now.
	Growing ProfileKind = "Growing"
	// Sliding: the last Window, moved on every Step.
	Sliding ProfileKind = "Sliding"
	// Selection: the last N actions.
	Selection ProfileKind = "Selection"
)

// Limits of a time profile's values.
const (
	maxSlidingWindow = 7 * 24 * time.Hour
	maxBuckets       = 10080
	maxSelection     = 10000
)

// TimeProfile is a configured time profile: an entry "Name,Kind = value"
// of the TimeProfiles section.
type TimeProfile struct {
	Name string
	Kind ProfileKind
	// Resets are the reset times of a Growing profile, as offsets from
	// midnight UTC, sorted, at least one.
	Resets []time.Duration
	// Window and Step are a Sliding profile's; Window is a multiple of Step.
	Window, Step time.Duration
	// N is a Selection profile's number of actions.
	N int
}

// ParseTimeProfile parses the entry key "Name,Kind" with its value:
// Growing "hh:mm[,hh:mm|,+hh:mm...]" (reset times of day; "+hh:mm" repeats
// every hh:mm from the time before it until midnight), Sliding
// "window:step" in seconds, Selection "N".
func ParseTimeProfile(key, value string) (TimeProfile, error) {
	name, kind, ok := strings.Cut(key, ",")
	p := TimeProfile{Name: strings.TrimSpace(name), Kind: ProfileKind(strings.TrimSpace(kind))}
	if !ok || p.Name == "" {
		return TimeProfile{}, fmt.Errorf("%w: time profile %q: want \"Name,Growing|Sliding|Selection\"", ErrInvalid, key)
	}
	var err error
	switch p.Kind {
	case Growing:
		p.Resets, err = parseResets(value)
	case Sliding:
		p.Window, p.Step, err = parseSliding(value)
	case Selection:
		p.N, err = parseCount(value, 1, maxSelection)
	default:
		err = fmt.Errorf("%w: kind %q: want Growing, Sliding or Selection", ErrInvalid, p.Kind)
	}
	if err != nil {
		return TimeProfile{}, fmt.Errorf("time profile %q: %w", key, err)
	}
	return p, nil
}

func parseResets(s string) ([]time.Duration, error) {
	var out []time.Duration
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		every, repeat := strings.CutPrefix(item, "+")
		d, err := parseClock(every)
		if err != nil {
			return nil, err
		}
		if !repeat {
			out = append(out, d)
			continue
		}
		if len(out) == 0 || d <= 0 {
			return nil, fmt.Errorf("%w: %q: a +hh:mm step needs a time before it and must not be zero", ErrInvalid, item)
		}
		for t := out[len(out)-1] + d; t < 24*time.Hour; t += d {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// parseClock parses "hh:mm", 00:00 to 23:59.
func parseClock(s string) (time.Duration, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 || len(m) != 2 {
		return 0, fmt.Errorf("%w: %q: want hh:mm", ErrInvalid, s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

func parseSliding(s string) (window, step time.Duration, err error) {
	w, st, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("%w: %q: want window:step in seconds", ErrInvalid, s)
	}
	ws, err := parseCount(w, 1, int(maxSlidingWindow/time.Second))
	if err != nil {
		return 0, 0, err
	}
	ss, err := parseCount(st, 1, ws)
	if err != nil {
		return 0, 0, err
	}
	if ws%ss != 0 || ws/ss > maxBuckets {
		return 0, 0, fmt.Errorf("%w: %q: the window must be a multiple of the step, at most %d steps", ErrInvalid, s, maxBuckets)
	}
	return time.Duration(ws) * time.Second, time.Duration(ss) * time.Second, nil
}

func parseCount(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%w: %q: want a whole number %d-%d", ErrInvalid, s, lo, hi)
	}
	return n, nil
}

// periodStart returns the start of the Growing period holding t: the last
// reset point at or before t.
func (p TimeProfile) periodStart(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	of := t.Sub(day)
	i, found := slices.BinarySearch(p.Resets, of)
	switch {
	case found:
		return day.Add(p.Resets[i])
	case i > 0:
		return day.Add(p.Resets[i-1])
	}
	return day.AddDate(0, 0, -1).Add(p.Resets[len(p.Resets)-1])
}

// nextReset returns the first reset point after t.
func (p TimeProfile) nextReset(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	of := t.Sub(day)
	for _, r := range p.Resets {
		if r > of {
			return day.Add(r)
		}
	}
	return day.AddDate(0, 0, 1).Add(p.Resets[0])
}

// TimeRange is a configured time range: durations from Lo to Hi inclusive.
type TimeRange struct {
	Name   string
	Lo, Hi time.Duration
}

// ParseTimeRange parses an entry "Name = lo-hi" of the TimeRanges section,
// in whole seconds, 0 <= lo <= hi.
func ParseTimeRange(name, value string) (TimeRange, error) {
	lo, hi, ok := strings.Cut(value, "-")
	l, err1 := parseCount(lo, 0, 1<<30)
	h, err2 := parseCount(hi, 0, 1<<30)
	if !ok || err1 != nil || err2 != nil || l > h || strings.TrimSpace(name) == "" {
		return TimeRange{}, fmt.Errorf("%w: time range %q = %q: want lo-hi in whole seconds, lo <= hi", ErrInvalid, name, value)
	}
	return TimeRange{Name: name, Lo: time.Duration(l) * time.Second, Hi: time.Duration(h) * time.Second}, nil
}

// has reports whether d falls in r.
func (r TimeRange) has(d time.Duration) bool { return d >= r.Lo && d <= r.Hi }

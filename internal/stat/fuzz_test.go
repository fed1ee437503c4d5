package stat

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseMask: any text either parses to a non-empty mask of known
// actions or fails with ErrInvalid; it never panics.
func FuzzParseMask(f *testing.F) {
	for _, s := range []string{"*", "*, ~Call*", "CallWait,CallDistributed", "~", ",", "Call**"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMask(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseMask(%q): %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		for a := range m {
			if !strings.Contains(","+(Mask{a: true}).String()+",", ","+string(a)+",") {
				t.Fatalf("ParseMask(%q) holds unknown action %q", s, a)
			}
		}
	})
}

// FuzzParseTimeProfile: any entry either parses to a usable profile or
// fails with ErrInvalid.
func FuzzParseTimeProfile(f *testing.F) {
	f.Add("Default,Growing", "00:00")
	f.Add("S,Growing", "00:00,+00:15")
	f.Add("L,Sliding", "1800:60")
	f.Add("N,Selection", "10")
	f.Fuzz(func(t *testing.T, key, value string) {
		p, err := ParseTimeProfile(key, value)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseTimeProfile(%q, %q): %v does not wrap ErrInvalid", key, value, err)
			}
			return
		}
		switch p.Kind {
		case Growing:
			if len(p.Resets) == 0 {
				t.Fatalf("Growing profile without reset points: %+v", p)
			}
		case Sliding:
			if p.Step <= 0 || p.Window%p.Step != 0 {
				t.Fatalf("bad Sliding profile: %+v", p)
			}
		case Selection:
			if p.N < 1 {
				t.Fatalf("bad Selection profile: %+v", p)
			}
		}
	})
}

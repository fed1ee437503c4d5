package ixn

import (
	"testing"
	"time"
)

// Find lists the matching interactions, oldest first, up to the limit.
func TestFind(t *testing.T) {
	f := newFixture(t)
	for i, vip := range []string{"yes", "no", "yes", "yes"} {
		f.now = f.now.Add(time.Second)
		f.submit(string(rune('a'+i)), "ext", map[string]string{"Vip": vip})
	}
	c, err := ParseCondition("Vip = 'yes'")
	if err != nil {
		t.Fatal(err)
	}
	ids := func(list []Interaction) (s string) {
		for _, in := range list {
			s += in.ID
		}
		return s
	}
	if got := ids(f.e.Find(f.now, c, 0)); got != "acd" {
		t.Errorf("found %q, want acd", got)
	}
	if got := ids(f.e.Find(f.now, c, 2)); got != "ac" {
		t.Errorf("found %q with limit 2, want ac", got)
	}
}

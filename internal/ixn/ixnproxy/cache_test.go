package ixnproxy

import "testing"

// The cache forgets the interaction it learnt longest ago first.
func TestCacheEvictsOldest(t *testing.T) {
	a, b := &node{}, &node{}
	c := newCache(2)
	c.put("x", a)
	c.put("y", b)
	c.put("x", b) // relearnt: not younger
	c.put("z", a)
	if c.get("x") != nil || c.get("y") != b || c.get("z") != a || c.len() != 2 {
		t.Fatalf("x %v y %v z %v len %d", c.get("x"), c.get("y"), c.get("z"), c.len())
	}
	c.forget("y")
	if c.get("y") != nil || c.len() != 1 {
		t.Fatal("y not forgotten")
	}
}

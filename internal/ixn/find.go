package ixn

import (
	"cmp"
	"slices"
	"time"
)

// Find lists the interactions whose properties match c, oldest submission
// first, at most limit of them (limit <= 0: MaxFound).
func (e *Engine) Find(now time.Time, c Condition, limit int) []Interaction {
	if limit <= 0 || limit > MaxFound {
		limit = MaxFound
	}
	var list []*Interaction
	for _, in := range e.ixns {
		if c.Match(in.Properties, now) {
			list = append(list, in)
		}
	}
	slices.SortFunc(list, func(a, b *Interaction) int {
		return cmp.Or(a.SubmittedAt.Compare(b.SubmittedAt), cmp.Compare(a.ID, b.ID))
	})
	out := make([]Interaction, 0, min(limit, len(list)))
	for _, in := range list[:min(limit, len(list))] {
		out = append(out, in.clone())
	}
	return out
}

// MaxFound is the most interactions one Find returns.
const MaxFound = 1000

package stat

import (
	"fmt"
	"slices"
	"strings"
)

// Mask is a set of actions: a stat type's MainMask or RelMask.
type Mask map[Action]bool

// ParseMask parses a mask as Genesys writes one: comma-separated items,
// applied in order to an empty set. "*" adds every action, "Name" adds
// one, "Prefix*" adds those starting with Prefix, and "~" before any of
// them removes instead. An item matching no action is an error, as is an
// empty mask.
func ParseMask(s string) (Mask, error) {
	m := Mask{}
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("%w: mask is empty", ErrInvalid)
	}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		name, remove := strings.CutPrefix(item, "~")
		matched := matching(strings.TrimSpace(name))
		if len(matched) == 0 {
			return nil, fmt.Errorf("%w: mask item %q matches no action", ErrInvalid, item)
		}
		for _, a := range matched {
			if remove {
				delete(m, a)
			} else {
				m[a] = true
			}
		}
	}
	return m, nil
}

// matching returns the actions a mask item (without ~) names.
func matching(item string) []Action {
	prefix, glob := strings.CutSuffix(item, "*")
	if !glob {
		if slices.Contains(Actions, Action(item)) {
			return []Action{Action(item)}
		}
		return nil
	}
	var out []Action
	for _, a := range Actions {
		if strings.HasPrefix(string(a), prefix) {
			out = append(out, a)
		}
	}
	return out
}

// Has reports whether a is in m.
func (m Mask) Has(a Action) bool { return m[a] }

// String lists m's actions in the order of Actions.
func (m Mask) String() string {
	var names []string
	for _, a := range Actions {
		if m[a] {
			names = append(names, string(a))
		}
	}
	return strings.Join(names, ",")
}

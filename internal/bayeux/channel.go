package bayeux

import "strings"

// validChannel reports whether ch is a Bayeux channel name: absolute,
// without empty segments, with a wildcard ("*" or "**") only as its last
// segment.
func validChannel(ch string) bool {
	if len(ch) < 2 || ch[0] != '/' || ch[len(ch)-1] == '/' {
		return false
	}
	for rest := ch[1:]; ; { // one segment at a time, without allocating
		seg, next, more := strings.Cut(rest, "/")
		switch {
		case seg == "":
			return false
		case seg == "*" || seg == "**":
			if more {
				return false
			}
		case strings.Contains(seg, "*"):
			return false
		}
		if !more {
			return true
		}
		rest = next
	}
}

// isWild reports whether ch is a wildcard channel pattern.
func isWild(ch string) bool { return strings.HasSuffix(ch, "*") }

// isMeta reports whether ch is a meta channel or pattern.
func isMeta(ch string) bool { return ch == "/meta" || strings.HasPrefix(ch, "/meta/") }

// isService reports whether ch is a service channel or pattern.
func isService(ch string) bool { return ch == "/service" || strings.HasPrefix(ch, "/service/") }

// patterns returns ch itself and every wildcard pattern that matches it:
// for /a/b, "/a/b", "/a/*", "/a/**" and "/**". ch must be a valid channel
// without wildcard.
func patterns(ch string) []string {
	out := []string{ch}
	for i := len(ch) - 1; i >= 0; i-- {
		if ch[i] != '/' {
			continue
		}
		if strings.IndexByte(ch[i+1:], '/') < 0 {
			out = append(out, ch[:i+1]+"*")
		}
		out = append(out, ch[:i+1]+"**")
	}
	return out
}

// subscriptions maps channels and patterns to their subscribers. It is not
// safe for concurrent use: Server.mu guards it.
type subscriptions map[string]map[*Client]struct{}

// add subscribes c to ch.
func (s subscriptions) add(ch string, c *Client) {
	set := s[ch]
	if set == nil {
		set = make(map[*Client]struct{})
		s[ch] = set
	}
	set[c] = struct{}{}
}

// remove unsubscribes c from ch.
func (s subscriptions) remove(ch string, c *Client) {
	set := s[ch]
	delete(set, c)
	if len(set) == 0 {
		delete(s, ch)
	}
}

// match returns the subscribers of ch, each once.
func (s subscriptions) match(ch string) []*Client {
	var out []*Client
	seen := make(map[*Client]struct{})
	for _, p := range patterns(ch) {
		for c := range s[p] {
			if _, dup := seen[c]; !dup {
				seen[c] = struct{}{}
				out = append(out, c)
			}
		}
	}
	return out
}

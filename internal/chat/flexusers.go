package chat

import "github.com/parley-chat/parley/internal/transcript"

// FlexUsers returns how many customers (Client parties) are present: the
// flex users the session holds, which limit-for-flex-users bounds.
func (s *Session) FlexUsers() int {
	n := 0
	for _, m := range s.members {
		if m.present && m.Type == transcript.Client {
			n++
		}
	}
	return n
}

package chatserver

// countFlex brings the server's count of present flex users (customers,
// for limit-for-flex-users) up to date with e after an operation: a
// session that ended, or is gone from here, holds none. Only e's drainer
// calls it.
func (s *Server) countFlex(e *entry) {
	n := 0
	if !e.gone && e.sess != nil && !e.sess.Closed() {
		n = e.sess.FlexUsers()
	}
	if d := n - e.flexUsers; d != 0 {
		e.flexUsers = n
		s.flexUsers.Add(int64(d))
	}
}

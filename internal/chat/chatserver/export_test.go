package chatserver

// FireTimers makes the timer loop read the clock again, for tests that move
// an injected clock forward.
func (s *Server) FireTimers() { s.timers.poke() }

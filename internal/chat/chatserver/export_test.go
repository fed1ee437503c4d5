package chatserver

// FireTimers makes the timer loop read the clock again, for tests that move
// an injected clock forward.
func (s *Server) FireTimers() { s.timers.poke() }

// CancelWork cancels every session operation at once, without the drain of
// a graceful stop: the part of a crash a test can do in-process.
func (s *Server) CancelWork() { s.stopWork() }

package webapi

import dto "github.com/prometheus/client_model/go"

// Accepting reports whether the web API would pick chat server name for a
// new chat: connected, status read, accepting.
func (s *Server) Accepting(name string) bool {
	cs, ok := s.pool.servers[name]
	if !ok {
		return false
	}
	_, accepting := cs.load()
	return accepting
}

// Refreshes returns how many refreshes were answered from source, "cache"
// or "chat-server".
func (s *Server) Refreshes(source string) float64 {
	var m dto.Metric
	s.metrics.refresh.WithLabelValues(source).Write(&m)
	return m.GetCounter().GetValue()
}

// Connected reports whether the web API's connection to chat server name is up.
func (s *Server) Connected(name string) bool {
	cs, ok := s.pool.servers[name]
	if !ok {
		return false
	}
	c := cs.client.Conn()
	return c != nil && c.Err() == nil
}

// CometClient reports whether the CometD server holds the session id.
func (s *Server) CometClient(id string) bool { return s.comet.bx.Client(id) != nil }

// InFlightUploads returns how many uploads are streaming to a chat server.
func (s *Server) InFlightUploads() int64 { return s.uploads.Load() }

// Refused returns how many requests were refused for reason.
func (s *Server) Refused(reason string) float64 {
	var m dto.Metric
	s.metrics.refused.WithLabelValues(reason).Write(&m)
	return m.GetCounter().GetValue()
}

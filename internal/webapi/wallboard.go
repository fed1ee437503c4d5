package webapi

import "net/http"

// wallboard sends /wallboard/ to the wallboard of the first stat server the
// web API connects to (the primary of a pair), so that the deployment's one
// public address leads supervisors to it (docs/stat.md). Without a stat
// server it is 404. The browser keeps a #token=... fragment across the
// redirect.
func (s *Server) wallboard() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(s.cfg.StatServers) == 0 {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, s.cfg.StatServers[0].URL("http", "/wallboard/"), http.StatusFound)
	})
}

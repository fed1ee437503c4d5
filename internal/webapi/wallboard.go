package webapi

import (
	"net/http"
	"time"
)

// wallboardProbe bounds the health check of each stat server.
const wallboardProbe = time.Second

// wallboard sends /wallboard/ to the wallboard of the first stat server the
// web API connects to that answers its /healthz (the primary of a pair,
// else its backup), so that the deployment's one public address leads
// supervisors to it (docs/stat.md). Without a stat server it is 404; with
// none up, 503. The browser keeps a #token=... fragment across the
// redirect.
func (s *Server) wallboard() http.Handler {
	client := s.cfg.Trust.HTTPClient(wallboardProbe)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(s.cfg.StatServers) == 0 {
			http.NotFound(w, r)
			return
		}
		for _, ep := range s.cfg.StatServers {
			resp, err := client.Get(ep.URL("http", "/healthz"))
			if err != nil {
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				http.Redirect(w, r, ep.URL("http", "/wallboard/"), http.StatusFound)
				return
			}
		}
		http.Error(w, "no stat server is up", http.StatusServiceUnavailable)
	})
}

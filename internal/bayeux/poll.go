package bayeux

import (
	"errors"
	"io"
	"net/http"
)

// maxBatchFactor is how many maximal messages one long-polling body or
// websocket frame may carry.
const maxBatchFactor = 16

// servePoll serves a long-polling request: it answers every message of the
// body in one JSON array, after holding the connect among them, if any.
// Only a body that is not JSON at all (400) or too large (413) gets an HTTP
// error; bad messages get unsuccessful Bayeux replies.
func (s *Server) servePoll(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBatchFactor*s.opts.MaxMessageSize))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "bayeux: body too large", http.StatusRequestEntityTooLarge)
			return
		}
		s.log.Debug("bayeux: read body", "err", err)
		http.Error(w, "bayeux: cannot read body", http.StatusBadRequest)
		return
	}
	msgs, err := decode(body, s.opts.MaxMessageSize)
	if err != nil {
		http.Error(w, "bayeux: body is not JSON", http.StatusBadRequest)
		return
	}
	out, holds := s.process(r.Context(), msgs, nil)
	for _, h := range holds {
		out = append(out, h.c.await(r.Context(), h.p, h.timeout)...)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-cache, no-store")
	_, _ = w.Write(joinArray(nil, out)) // a failed write means the client left
}

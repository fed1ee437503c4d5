package bayeux

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"
)

// maxBatchFactor is how many maximal messages one long-polling body,
// callback-polling message parameter or websocket frame may carry.
const maxBatchFactor = 16

// holdWriteGrace is how long a held connect's answer may take to write
// once its hold is over.
const holdWriteGrace = 30 * time.Second

// maxCallbackLen bounds the name of a callback-polling callback.
const maxCallbackLen = 128

// servePoll serves a long-polling request: it answers every message of the
// body in one JSON array, after holding the connect among them, if any.
// Only a body that is not JSON at all (400) or too large (413) gets an HTTP
// error; bad messages get unsuccessful Bayeux replies.
func (s *Server) servePoll(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBatch()))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "bayeux: body too large", http.StatusRequestEntityTooLarge)
			return
		}
		s.log.Debug("bayeux: read body", "err", err)
		http.Error(w, "bayeux: cannot read body", http.StatusBadRequest)
		return
	}
	s.answer(w, r, body, "")
}

// serveCallbackPoll serves a callback-polling (JSONP) request: a GET whose
// query carries the messages as JSON in message and the name of the
// page's callback function in jsonp. It is long polling in every other
// respect; the answer is the script "/**/callback([...]);".
func (s *Server) serveCallbackPoll(w http.ResponseWriter, r *http.Request, q url.Values) {
	callback, message := q.Get("jsonp"), q.Get("message")
	switch {
	case !validCallback(callback):
		http.Error(w, "bayeux: jsonp must name a JavaScript function", http.StatusBadRequest)
	case int64(len(message)) > s.maxBatch():
		http.Error(w, "bayeux: message too large", http.StatusRequestEntityTooLarge)
	default:
		s.answer(w, r, []byte(message), callback)
	}
}

// answer serves the messages of body and writes the replies: a JSON array,
// or, with a callback, that array as the argument of a call to callback.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, body []byte, callback string) {
	msgs, err := decode(body, s.opts.MaxMessageSize)
	if err != nil {
		http.Error(w, "bayeux: body is not JSON", http.StatusBadRequest)
		return
	}
	addr := remoteHost(r)
	out, holds := s.process(r.Context(), msgs, nil, addr)
	if len(holds) > 0 {
		// The server's write timeout counts from the request: a held
		// connect writes its answer up to a hold later.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.opts.Timeout + holdWriteGrace))
	}
	for _, h := range holds {
		out = append(out, s.hold(r, addr, h)...)
	}
	h := w.Header()
	h.Set("Cache-Control", "no-cache, no-store")
	if callback == "" {
		h.Set("Content-Type", "application/json;charset=UTF-8")
		_, _ = w.Write(joinArray(nil, out)) // a failed write means the client left
		return
	}
	h.Set("Content-Type", "text/javascript;charset=UTF-8")
	h.Set("X-Content-Type-Options", "nosniff")
	// The leading comment keeps the first bytes out of the attacker's hands
	// (the "Rosetta Flash" family of attacks reads a response as another
	// content type from its start).
	b := append([]byte("/**/"), callback...)
	b = append(joinArray(append(b, '('), out), ");"...)
	_, _ = w.Write(b)
}

// maxBatch is the largest body, message parameter or frame accepted.
func (s *Server) maxBatch() int64 { return maxBatchFactor * s.opts.MaxMessageSize }

// validCallback reports whether name may be written as the callback of a
// callback-polling answer: a JavaScript identifier path (letters, digits,
// _, $ and dots, not starting with a digit or dot) of at most
// maxCallbackLen bytes, so that the answer can run nothing but that call.
func validCallback(name string) bool {
	if name == "" || len(name) > maxCallbackLen || name[0] == '.' || (name[0] >= '0' && name[0] <= '9') {
		return false
	}
	for i := range len(name) {
		switch c := name[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '$':
		case c == '.' && name[i-1] != '.':
		default:
			return false
		}
	}
	return name[len(name)-1] != '.'
}

// parkedWait is the interval advised to a client whose connect was not
// held for MaxConnectsPerAddr: its next connect comes a second later.
const parkedWait = time.Second

// hold holds the long-polling connect h, within MaxConnectsPerAddr, and
// returns its answer.
func (s *Server) hold(r *http.Request, addr string, h hold) [][]byte {
	if !s.park(addr) {
		s.opts.Refused(RefusedConnects)
		return h.c.answerNow(h.p, parkedWait)
	}
	defer s.unpark(addr)
	return h.c.await(r.Context(), h.p, h.timeout)
}

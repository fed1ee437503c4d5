package auth

import (
	"crypto/tls"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RoleAdmin is the holder of the admin credential (Key.AdminToken): it may
// use /admin/*, /kpi and /metrics of every application.
const RoleAdmin Role = "admin"

// requestWindow is how far a signed request's time may be from the
// server's: a captured request is useless after it.
const requestWindow = time.Minute

// scheme is the Authorization scheme of a request signed by an application.
const scheme = "Parley "

// SignRequest signs r as sent by the application client to the application
// server at now: an Authorization header that proves the deployment key over
// the method, the request URI, the time and a nonce, so that it cannot be
// replayed nor moved to another request.
func (k Key) SignRequest(r *http.Request, client, server string, now time.Time) {
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	nonce := NewNonce()
	sig := k.sum("http", client, server, r.Method, r.URL.RequestURI(), ts, nonce)
	r.Header.Set("Authorization", scheme+client+":"+ts+":"+nonce+":"+sig)
}

// HTTP returns next guarded: a request reaches it only from a peer the
// policy admits in one of roles, proved by the admin token (RoleAdmin), a
// client certificate or a signed request (SignRequest). Any other request is
// answered 401 (no or a wrong credential) or 403 (a known peer in another
// role), with the wire code and text as JSON.
func (g *Gate) HTTP(next http.Handler, roles ...Role) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, reason := g.httpIdentity(r)
		switch {
		case reason != "":
			g.httpRefuse(w, id.Name, reason, http.StatusUnauthorized, 110, "authentication failed")
		case !hasAny(id, roles):
			g.httpRefuse(w, id.Name, ReasonRole, http.StatusForbidden, 111, "not admitted in this role")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func hasAny(id Identity, roles []Role) bool {
	for _, r := range roles {
		if id.Has(r) {
			return true
		}
	}
	return false
}

// httpIdentity returns who sent r, or why it cannot tell.
func (g *Gate) httpIdentity(r *http.Request) (Identity, string) {
	h := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok && !g.Key.Zero() {
		if !equal(tok, g.Key.AdminToken()) {
			return Identity{}, ReasonBadProof
		}
		return Identity{Name: "admin", Roles: []Role{RoleAdmin}}, ""
	}
	if name := CertName(r.TLS); name != "" {
		id, ok := g.Policy.identity(name)
		if !ok || id.External {
			return Identity{Name: name}, ReasonUnknownPeer
		}
		return id, ""
	}
	if v, ok := strings.CutPrefix(h, scheme); ok {
		return g.verifySigned(r, v)
	}
	return Identity{}, ReasonNotAuthenticated
}

// verifySigned checks a SignRequest header value.
func (g *Gate) verifySigned(r *http.Request, v string) (Identity, string) {
	parts := strings.Split(v, ":")
	if len(parts) != 4 || g.Key.Zero() {
		return Identity{}, ReasonMalformed
	}
	client, ts, nonce, sig := parts[0], parts[1], parts[2], parts[3]
	id, ok := g.Policy.identity(client)
	if !ok || id.External {
		return Identity{Name: client}, ReasonUnknownPeer
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return id, ReasonMalformed
	}
	want := g.Key.sum("http", client, g.Policy.Server(), r.Method, r.URL.RequestURI(), ts, nonce)
	at := time.UnixMilli(ms)
	now := g.now()
	if !equal(sig, want) || at.Before(now.Add(-requestWindow)) || at.After(now.Add(requestWindow)) {
		return id, ReasonBadProof
	}
	if !g.replays.first(nonce, now) {
		return id, ReasonBadProof
	}
	return id, ""
}

func (g *Gate) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *Gate) httpRefuse(w http.ResponseWriter, peer, reason string, status, code int, text string) {
	if g.Refused != nil {
		g.Refused(peer, reason)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("WWW-Authenticate", `Bearer realm="parley"`)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"code":` + strconv.Itoa(code) + `,"text":"` + text + `"}` + "\n"))
}

// CertName returns the name a verified client certificate proves (its
// subject's common name), or "" without one.
func CertName(st *tls.ConnectionState) string {
	if st == nil || len(st.VerifiedChains) == 0 || len(st.PeerCertificates) == 0 {
		return ""
	}
	return st.PeerCertificates[0].Subject.CommonName
}

// replayCache remembers the nonces of signed requests within the window.
type replayCache struct {
	mu   sync.Mutex // guards seen
	seen map[string]time.Time
}

// first records nonce and reports whether it was not seen within the window.
func (c *replayCache) first(nonce string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = make(map[string]time.Time)
	}
	if _, dup := c.seen[nonce]; dup {
		return false
	}
	if len(c.seen) >= 1024 {
		for n, at := range c.seen {
			if now.Sub(at) > 2*requestWindow {
				delete(c.seen, n)
			}
		}
	}
	c.seen[nonce] = now
	return true
}

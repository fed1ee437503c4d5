package webapi

import (
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/wire"
)

// What the web API tells browsers and asks of them. A page may use the
// browser endpoints (the Chat API under /genesys/, CometD, the desktop
// bridge) only from an allowed origin: the origin of public-url, with the
// other loopback spellings when it is a loopback one, and the
// allowed-origins. The Origin header is compared with that list, never with
// the request's Host, which a DNS rebinding attacker controls. Requests
// without Origin come from clients other than browsers and are not checked.

// loopbackHosts are the spellings of a loopback host a browser may use for
// a web API listening on one of them. An attacker cannot make another site
// send any of them as its origin.
var loopbackHosts = []string{"localhost", "127.0.0.1", "[::1]"}

// browser is the web API's origin policy and the headers of its pages. It
// is immutable.
type browser struct {
	own     []string        // the public origin and its loopback aliases, canonical
	allowed map[string]bool // own and allowed-origins, canonical
	desktop string          // Content-Security-Policy of the desktop's files
	widget  string          // Content-Security-Policy of the widget's files
}

// newBrowser returns the policy of a web API whose public URL is publicURL
// and whose settings list other origins.
func newBrowser(publicURL string, st config.WebAPISettings) (*browser, error) {
	st.PublicURL = publicURL
	pub, err := st.PublicOrigin()
	if err != nil {
		return nil, err
	}
	b := &browser{own: loopbackAliases(pub), allowed: map[string]bool{}}
	others := slices.DeleteFunc(st.Origins(), func(o string) bool { return slices.Contains(b.own, o) })
	for _, o := range append(slices.Clone(b.own), others...) {
		b.allowed[o] = true
	}
	connect := "connect-src 'self'"
	for _, o := range cspSources(b.own) {
		connect += " " + wsOrigin(o)
	}
	base := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; worker-src 'self'; " +
		connect + "; object-src 'none'; base-uri 'none'; form-action 'self'"
	b.desktop = base + "; frame-ancestors 'none'"
	b.widget = base + "; frame-ancestors " + strings.Join(append([]string{"'self'"}, cspSources(others)...), " ")
	return b, nil
}

// cspSources returns the origins a Content-Security-Policy can name:
// browsers refuse an IPv6 literal as a source (such a page falls back on
// 'self').
func cspSources(origins []string) []string {
	return slices.DeleteFunc(slices.Clone(origins), func(o string) bool { return strings.Contains(o, "[") })
}

// loopbackAliases returns origin, followed by the same origin under the
// other loopback spellings when its host is one of them.
func loopbackAliases(origin string) []string {
	u, err := url.Parse(origin)
	if err != nil || !isLoopback(u.Hostname()) {
		return []string{origin}
	}
	out := []string{origin}
	for _, h := range loopbackHosts {
		alias := u.Scheme + "://" + h
		if p := u.Port(); p != "" {
			alias += ":" + p
		}
		if alias != origin {
			out = append(out, alias)
		}
	}
	return out
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// wsOrigin is the WebSocket origin of an http(s) origin.
func wsOrigin(o string) string {
	if rest, ok := strings.CutPrefix(o, "https://"); ok {
		return "wss://" + rest
	}
	return "ws://" + strings.TrimPrefix(o, "http://")
}

// origins returns the allowed origins, sorted, for the logs.
func (b *browser) origins() []string {
	if b == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(b.allowed))
}

// allow reports whether a page of origin (an Origin header as sent) may use
// the browser endpoints. A nil browser allows none.
func (b *browser) allow(origin string) bool {
	if b == nil {
		return false
	}
	c, err := config.CanonicalOrigin(origin)
	return err == nil && b.allowed[c]
}

// originOK reports whether r carries no Origin header or an allowed one.
func (s *Server) originOK(r *http.Request) bool {
	o := r.Header.Get("Origin")
	return o == "" || s.browser.Load().allow(o)
}

// serveHTTP is the listener's handler: every response carries nosniff, and
// the Chat API and CometD answer CORS for the allowed origins.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(r.URL.Path, "/genesys/") && !s.cors(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// cors applies the origin policy to a request of the Chat API or CometD
// and reports whether it is to be served. An allowed origin gets
// Access-Control-Allow-Origin (with credentials: the CometD client sends
// them cross-origin), and its preflight is answered here. A Chat API
// request from another origin gets 403 with the error envelope; CometD
// refuses its own (bayeux's CheckOrigin), with a Bayeux body.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	switch {
	case origin == "":
		return true
	case !s.originOK(r):
		if r.Method == http.MethodOptions || !strings.HasPrefix(r.URL.Path, cometPath) {
			writeEnvelope(w, http.StatusForbidden, errorEnvelope(wire.Errorf(wire.CodeNotAllowed,
				"pages of origin %q may not use this web API (allowed-origins)", origin)))
			return false
		}
		return true
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return true
	}
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return false
}

// pages serves the files of a web page with its security headers: csp
// picks the Content-Security-Policy from the browser policy.
func (s *Server) pages(h http.Handler, csp func(*browser) string, frame string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		if b := s.browser.Load(); b != nil {
			hd.Set("Content-Security-Policy", csp(b))
		} else {
			hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		}
		if frame != "" {
			hd.Set("X-Frame-Options", frame)
		}
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

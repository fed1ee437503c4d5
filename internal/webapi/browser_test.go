package webapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/internal/config"
)

// startBrowserWeb runs a web API that also allows https://shop.example.com.
func startBrowserWeb(t *testing.T) (*web, string) {
	t.Helper()
	w := startWeb(t, func(o *config.WebAPIOptions) {
		o.Settings.AllowedOrigins = "https://shop.example.com, http://partner.example.com:8080"
	}, startChat(t, "chat-1", nil))
	u, _ := url.Parse(w.base)
	return w, u.Host
}

// originRequest sends a request to the web API at host with the headers
// Origin (unless empty) and Host (unless empty) and returns its response.
func originRequest(t *testing.T, method, u, origin, host, ctype, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestOriginCheck checks every browser endpoint against the allowed
// origins: the public URL (here the listener's address, with its loopback
// aliases) and allowed-origins. A request without Origin is not a
// browser's and passes.
func TestOriginCheck(t *testing.T) {
	w, addr := startBrowserWeb(t)
	_, port, _ := strings.Cut(addr, ":")
	root := "http://" + addr
	tests := []struct {
		name   string
		origin string
		host   string // the Host header; "" for the address dialled
		ok     bool
	}{
		{"no origin", "", "", true},
		{"own origin", "http://" + addr, "", true},
		{"own origin, upper case", "HTTP://" + strings.ToUpper(addr), "", true},
		{"own origin as localhost", "http://localhost:" + port, "", true},
		{"own origin as [::1]", "http://[::1]:" + port, "", true},
		{"own host, other port", "http://127.0.0.1:1", "", false},
		{"own host, https", "https://" + addr, "", false},
		{"allowed", "https://shop.example.com", "", true},
		{"allowed, case and default port", "https://SHOP.example.com:443", "", true},
		{"allowed with port", "http://partner.example.com:8080", "", true},
		{"allowed host, other scheme", "http://shop.example.com", "", false},
		{"allowed host, other port", "https://shop.example.com:8443", "", false},
		{"allowed with port, port missing", "http://partner.example.com", "", false},
		{"subdomain of allowed", "https://evil.shop.example.com", "", false},
		{"other site", "https://evil.example.com", "", false},
		// DNS rebinding: the attacker's name resolves to the web API, so
		// the page's Origin and the request's Host agree.
		{"rebinding", "http://evil.example.com:" + port, "evil.example.com:" + port, false},
		{"null", "null", "", false},
		{"garbage", "not an origin", "", false},
	}
	handshake := `[{"id":"1","channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling","websocket"]}]`
	wsRoot := "ws://" + addr
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := map[bool]int{true: http.StatusOK, false: http.StatusForbidden}[tt.ok]
			resp := originRequest(t, http.MethodPost, w.base, tt.origin, tt.host, "application/x-www-form-urlencoded", "nickname=Ann")
			if resp.StatusCode != want {
				t.Errorf("REST request chat: HTTP %d, want %d", resp.StatusCode, want)
			}
			acao := resp.Header.Get("Access-Control-Allow-Origin")
			if (tt.ok && tt.origin != "" && acao != tt.origin) || ((!tt.ok || tt.origin == "") && acao != "") {
				t.Errorf("REST Access-Control-Allow-Origin = %q", acao)
			}
			resp = originRequest(t, http.MethodPost, root+"/genesys/cometd", tt.origin, tt.host, "application/json", handshake)
			if resp.StatusCode != want {
				t.Errorf("CometD long polling: HTTP %d, want %d", resp.StatusCode, want)
			}
			for _, path := range []string{"/genesys/cometd", "/desktop/ws"} {
				h := http.Header{}
				if tt.origin != "" {
					h.Set("Origin", tt.origin)
				}
				ws, resp, err := websocket.Dial(t.Context(), wsRoot+path, &websocket.DialOptions{HTTPHeader: h, Host: tt.host})
				if err == nil {
					ws.CloseNow()
				}
				if (err == nil) != tt.ok {
					t.Errorf("websocket %s: %v, want ok %v", path, err, tt.ok)
				}
				if !tt.ok && (resp == nil || resp.StatusCode != http.StatusForbidden) {
					t.Errorf("websocket %s refused with %v, want HTTP 403", path, resp)
				}
			}
		})
	}
}

// TestCORSPreflight checks the answer to a browser's preflight of a
// cross-origin CometD or Chat API request.
func TestCORSPreflight(t *testing.T) {
	w, addr := startBrowserWeb(t)
	for _, u := range []string{"http://" + addr + "/genesys/cometd", w.base} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodOptions, u, nil)
		req.Header.Set("Origin", "https://shop.example.com")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "https://shop.example.com" ||
			h.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "content-type") {
			t.Errorf("%s preflight: HTTP %d %v", u, resp.StatusCode, h)
		}
		req.Header.Set("Origin", "https://evil.example.com")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s preflight from another origin: HTTP %d %v", u, resp.StatusCode, resp.Header)
		}
	}
}

// TestSecurityHeaders checks the headers of the web pages, their assets
// and the other responses.
func TestSecurityHeaders(t *testing.T) {
	w, addr := startBrowserWeb(t)
	root := "http://" + addr
	_, port, _ := strings.Cut(addr, ":")
	tests := []struct {
		path      string
		csp       []string // parts the Content-Security-Policy must have; nil: no CSP needed
		frame     string   // X-Frame-Options
		noCSPPart string   // a part it must not have
	}{
		{"/desktop/", []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "worker-src 'self'",
			"connect-src 'self' ws://" + addr, "ws://localhost:" + port}, "DENY", "shop.example.com"},
		{"/desktop/desktop.js", []string{"default-src 'self'", "frame-ancestors 'none'"}, "DENY", "unsafe-inline"},
		{"/desktop/desktop.css", []string{"default-src 'self'", "frame-ancestors 'none'"}, "DENY", "unsafe-inline"},
		{"/widget/", []string{"default-src 'self'", "script-src 'self'", "connect-src 'self' ws://" + addr,
			"frame-ancestors 'self' https://shop.example.com http://partner.example.com:8080"}, "", "unsafe-inline"},
		{"/widget/widget.js", []string{"frame-ancestors 'self' https://shop.example.com"}, "", "unsafe-eval"},
		{"/widget/bayeux.js", []string{"default-src 'self'"}, "", "unsafe-eval"},
		{"/healthz", nil, "", ""},
		{"/favicon.ico", nil, "", ""},
	}
	for _, tt := range tests {
		resp := originRequest(t, http.MethodGet, root+tt.path, "", "", "", "")
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: HTTP %d", tt.path, resp.StatusCode)
		}
		h := resp.Header
		if h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q", tt.path, h.Get("X-Content-Type-Options"))
		}
		csp := h.Get("Content-Security-Policy")
		for _, part := range tt.csp {
			if !strings.Contains(csp, part) {
				t.Errorf("GET %s: CSP %q lacks %q", tt.path, csp, part)
			}
		}
		if tt.noCSPPart != "" && strings.Contains(csp, tt.noCSPPart) {
			t.Errorf("GET %s: CSP %q has %q", tt.path, csp, tt.noCSPPart)
		}
		if strings.Contains(csp, "[") {
			t.Errorf("GET %s: CSP %q names an IPv6 literal, which browsers refuse", tt.path, csp)
		}
		if h.Get("X-Frame-Options") != tt.frame {
			t.Errorf("GET %s: X-Frame-Options %q, want %q", tt.path, h.Get("X-Frame-Options"), tt.frame)
		}
	}
	resp := originRequest(t, http.MethodPost, w.base, "", "", "application/x-www-form-urlencoded", "nickname=Ann")
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("Chat API reply: X-Content-Type-Options %q", resp.Header.Get("X-Content-Type-Options"))
	}
}

// TestPublicURL checks a web API behind a TLS proxy: its public-url, not
// its listener, is its own origin.
func TestPublicURL(t *testing.T) {
	w := startWeb(t, func(o *config.WebAPIOptions) { o.Settings.PublicURL = "https://Chat.Example.com/gms/" },
		startChat(t, "chat-1", nil))
	u, _ := url.Parse(w.base)
	for origin, want := range map[string]int{"https://chat.example.com": 200, "http://" + u.Host: 403, "http://localhost:" + u.Port(): 403} {
		if resp := originRequest(t, http.MethodPost, w.base, origin, "", "application/x-www-form-urlencoded", "nickname=Ann"); resp.StatusCode != want {
			t.Errorf("Origin %s: HTTP %d, want %d", origin, resp.StatusCode, want)
		}
	}
	resp := originRequest(t, http.MethodGet, "http://"+u.Host+"/desktop/", "", "", "", "")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' wss://chat.example.com;") {
		t.Errorf("desktop CSP %q, want connect-src of wss://chat.example.com", csp)
	}
}

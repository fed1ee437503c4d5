package bayeux

import (
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// TestCheckOrigin checks that both transports ask Options.CheckOrigin about
// a request's Origin, refuse what it refuses with 403, serve requests
// without Origin, and that an admitted websocket no longer needs its Origin
// host to equal the Host header.
func TestCheckOrigin(t *testing.T) {
	checkLeaks(t)
	allowed := func(o string) bool { return o == "https://shop.example.com" }
	ts := startServer(t, Options{CheckOrigin: allowed}, nil)
	wsURL := "ws" + strings.TrimPrefix(ts.url, "http")
	host := strings.TrimPrefix(ts.http.URL, "http://")
	tests := []struct {
		name   string
		origin string
		host   string // the Host header; "" for the address dialled
		ok     bool
	}{
		{"no origin", "", "", true},
		{"allowed origin", "https://shop.example.com", "", true},
		{"other origin", "https://evil.example.com", "", false},
		// DNS rebinding: the attacker's name resolves to this server, so
		// Origin and Host agree; only the list can refuse it.
		{"rebound host", "http://evil.example.com", "evil.example.com", false},
		{"same host, not listed", "http://" + host, "", false},
		{"null", "null", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/long-polling", func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, ts.url,
				strings.NewReader(`[{"id":"1","channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]}]`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if want := map[bool]int{true: 200, false: 403}[tt.ok]; resp.StatusCode != want {
				t.Errorf("HTTP %d, want %d", resp.StatusCode, want)
			}
		})
		t.Run(tt.name+"/websocket", func(t *testing.T) {
			h := http.Header{}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			ws, resp, err := websocket.Dial(t.Context(), wsURL, &websocket.DialOptions{HTTPHeader: h, Host: tt.host})
			if err == nil {
				ws.CloseNow()
			}
			if (err == nil) != tt.ok {
				t.Errorf("dial: %v, want ok %v", err, tt.ok)
			}
			if !tt.ok && (resp == nil || resp.StatusCode != http.StatusForbidden) {
				t.Errorf("refusal: %v, want HTTP 403", resp)
			}
		})
	}
}

// TestCheckOriginNil keeps the library's same-origin check for websockets
// when no CheckOrigin is set.
func TestCheckOriginNil(t *testing.T) {
	checkLeaks(t)
	ts := startServer(t, Options{}, nil)
	wsURL := "ws" + strings.TrimPrefix(ts.url, "http")
	h := http.Header{"Origin": {"https://evil.example.com"}}
	if ws, _, err := websocket.Dial(t.Context(), wsURL, &websocket.DialOptions{HTTPHeader: h}); err == nil {
		ws.CloseNow()
		t.Error("cross-origin websocket admitted without CheckOrigin")
	}
}

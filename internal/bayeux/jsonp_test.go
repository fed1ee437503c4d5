package bayeux

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// getJSONP sends a callback-polling GET with the given query and headers
// and returns the status, Content-Type and body.
func getJSONP(t *testing.T, base string, q url.Values, header http.Header) (int, string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// TestCallbackPollingWire checks the callback-polling answer byte for byte
// and the requests it refuses: a callback that is no JavaScript function
// name (it would let the caller write script into the answer), a message
// over the size limit, a message that is not JSON.
func TestCallbackPollingWire(t *testing.T) {
	checkLeaks(t)
	ts := startServer(t, Options{MaxMessageSize: 1024}, nil)
	handshake := `[{"id":"1","channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["callback-polling"]}]`
	code, ctype, body := getJSONP(t, ts.url, url.Values{"jsonp": {"jQuery3_1.cb$"}, "message": {handshake}}, nil)
	if code != 200 || ctype != "text/javascript;charset=UTF-8" {
		t.Fatalf("HTTP %d %q: %s", code, ctype, body)
	}
	if !strings.HasPrefix(body, `/**/jQuery3_1.cb$([{"channel":"/meta/handshake","id":"1","clientId":"`) ||
		!strings.Contains(body, `"supportedConnectionTypes":["websocket","long-polling","callback-polling"]`) ||
		!strings.HasSuffix(body, `}]);`) {
		t.Fatalf("answer %s", body)
	}
	tests := []struct {
		name     string
		callback string
		message  string
		want     int
	}{
		{"script in the callback", "alert(1);f", handshake, 400},
		{"tag in the callback", "</script><script>x", handshake, 400},
		{"no callback", "", handshake, 400},
		{"digit first", "1f", handshake, 400},
		{"empty path element", "a..b", handshake, 400},
		{"trailing dot", "a.", handshake, 400},
		{"long callback", strings.Repeat("f", maxCallbackLen+1), handshake, 400},
		{"message not JSON", "f", "hello", 400},
		{"message too large", "f", strings.Repeat(" ", 16*1024+1), 413},
		{"longest callback", strings.Repeat("f", maxCallbackLen), handshake, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{"message": {tt.message}}
			if tt.callback != "" {
				q.Set("jsonp", tt.callback)
			}
			code, _, body := getJSONP(t, ts.url, q, nil)
			if code != tt.want {
				t.Errorf("HTTP %d, want %d: %s", code, tt.want, body)
			}
			if code != 200 && strings.Contains(body, tt.callback+"(") && tt.callback != "" {
				t.Errorf("refusal echoes the callback: %s", body)
			}
		})
	}
}

// TestCallbackPollingOrigin checks that callback-polling obeys CheckOrigin
// like long polling: by Origin when the browser sends one, else by the
// origin of the Referer (a script load carries no Origin), and that a
// request naming no page is served.
func TestCallbackPollingOrigin(t *testing.T) {
	checkLeaks(t)
	allowed := func(o string) bool { return o == "https://shop.example.com" }
	ts := startServer(t, Options{CheckOrigin: allowed}, nil)
	q := url.Values{"jsonp": {"f"}, "message": {`{"id":"1","channel":"/meta/handshake","supportedConnectionTypes":["callback-polling"]}`}}
	tests := []struct {
		name   string
		header http.Header
		want   int
	}{
		{"no page", nil, 200},
		{"allowed referer", http.Header{"Referer": {"https://shop.example.com/cart?x=1"}}, 200},
		{"other referer", http.Header{"Referer": {"https://evil.example.com/"}}, 403},
		{"relative referer", http.Header{"Referer": {"/page"}}, 403},
		{"allowed origin", http.Header{"Origin": {"https://shop.example.com"}}, 200},
		{"other origin, allowed referer", http.Header{"Origin": {"https://evil.example.com"}, "Referer": {"https://shop.example.com/"}}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, _, body := getJSONP(t, ts.url, q, tt.header); code != tt.want {
				t.Errorf("HTTP %d, want %d: %s", code, tt.want, body)
			}
		})
	}
}

func TestValidCallback(t *testing.T) {
	for name, want := range map[string]bool{
		"f": true, "_cometd_jsonp_0": true, "jQuery.cb_1": true, "$": true, "a.b.c": true,
		"": false, ".a": false, "a.": false, "a..b": false, "9a": false, "a-b": false, "a(b)": false, "a b": false, "ä": false,
	} {
		if got := validCallback(name); got != want {
			t.Errorf("validCallback(%q) = %v, want %v", name, got, want)
		}
	}
}

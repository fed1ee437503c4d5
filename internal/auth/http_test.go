package auth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/settle"
)

// httpNow is the server's clock in the HTTP tests.
var httpNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// chatPolicy is the policy of the chat server chat1 in the HTTP tests.
func chatPolicy() *Policy {
	p := NewPolicy("chat1")
	p.Allow("chat2", RoleChatPeer)
	p.Allow("web1", RoleWebAPI)
	p.AllowClient("bot", RoleBot)
	return p
}

// guarded serves /admin/ to RoleAdmin and everything else to RoleChatPeer.
func guarded(g *Gate) http.Handler {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux := http.NewServeMux()
	mux.Handle("/admin/", g.HTTP(ok, RoleAdmin))
	mux.Handle("/", g.HTTP(ok, RoleChatPeer))
	return mux
}

// refusal is the JSON body of a refused request.
type refusal struct {
	Code int    `json:"code"`
	Text string `json:"text"`
}

func TestGateHTTP(t *testing.T) {
	key := testKey(t, secret)
	const uri = "/sessions/s-1/location?from=chat2"
	sign := func(k Key, method, target, client, server string, at time.Time) func(*http.Request) {
		return func(r *http.Request) {
			s := httptest.NewRequest(method, target, nil)
			k.SignRequest(s, client, server, at)
			r.Header.Set("Authorization", s.Header.Get("Authorization"))
		}
	}
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	tests := []struct {
		name    string
		method  string
		target  string
		auth    func(*http.Request)
		status  int
		refusal string
	}{
		{"signed", "GET", uri, sign(key, "GET", uri, "chat2", "chat1", httpNow), 200, ""},
		{"signed 59 s ago", "GET", uri, sign(key, "GET", uri, "chat2", "chat1", httpNow.Add(-59*time.Second)), 200, ""},
		{"signed 59 s ahead", "GET", uri, sign(key, "GET", uri, "chat2", "chat1", httpNow.Add(59*time.Second)), 200, ""},
		{"signed 61 s ago", "GET", uri, sign(key, "GET", uri, "chat2", "chat1", httpNow.Add(-61*time.Second)), 401, "chat2/" + ReasonBadProof},
		{"signed 61 s ahead", "GET", uri, sign(key, "GET", uri, "chat2", "chat1", httpNow.Add(61*time.Second)), 401, "chat2/" + ReasonBadProof},
		{"tampered path", "GET", "/sessions/s-2/location?from=chat2", sign(key, "GET", uri, "chat2", "chat1", httpNow), 401, "chat2/" + ReasonBadProof},
		{"tampered query", "GET", "/sessions/s-1/location?from=chat3", sign(key, "GET", uri, "chat2", "chat1", httpNow), 401, "chat2/" + ReasonBadProof},
		{"tampered method", "POST", uri, sign(key, "GET", uri, "chat2", "chat1", httpNow), 401, "chat2/" + ReasonBadProof},
		{"for another server", "GET", uri, sign(key, "GET", uri, "chat2", "chat3", httpNow), 401, "chat2/" + ReasonBadProof},
		{"other key", "GET", uri, sign(testKey(t, otherSecret), "GET", uri, "chat2", "chat1", httpNow), 401, "chat2/" + ReasonBadProof},
		{"unknown signer", "GET", uri, sign(key, "GET", uri, "chat9", "chat1", httpNow), 401, "chat9/" + ReasonUnknownPeer},
		{"external client", "GET", uri, sign(key.ClientKey("bot"), "GET", uri, "bot", "chat1", httpNow), 401, "bot/" + ReasonUnknownPeer},
		{"known peer in another role", "GET", uri, sign(key, "GET", uri, "web1", "chat1", httpNow), 403, "web1/" + ReasonRole},
		{"peer on an admin route", "POST", "/admin/disable", sign(key, "POST", "/admin/disable", "chat2", "chat1", httpNow), 403, "chat2/" + ReasonRole},
		{"admin token", "POST", "/admin/disable", bearer(key.AdminToken()), 200, ""},
		{"admin token on a peer route", "GET", uri, bearer(key.AdminToken()), 403, "admin/" + ReasonRole},
		{"wrong admin token", "POST", "/admin/disable", bearer(testKey(t, otherSecret).AdminToken()), 401, "/" + ReasonBadProof},
		{"encoded key as token", "POST", "/admin/disable", bearer(key.Encode()), 401, "/" + ReasonBadProof},
		{"empty token", "POST", "/admin/disable", bearer(""), 401, "/" + ReasonBadProof},
		{"no credential", "GET", uri, func(*http.Request) {}, 401, "/" + ReasonNotAuthenticated},
		{"basic", "GET", uri, func(r *http.Request) { r.SetBasicAuth("chat2", secret) }, 401, "/" + ReasonNotAuthenticated},
		{"malformed signature", "GET", uri, func(r *http.Request) { r.Header.Set("Authorization", "Parley chat2:1:2") }, 401, "/" + ReasonMalformed},
		{"malformed time", "GET", uri, func(r *http.Request) { r.Header.Set("Authorization", "Parley chat2:soon:n:s") }, 401, "chat2/" + ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var refused refusals
			g := &Gate{Key: key, Policy: chatPolicy(), Refused: refused.hook, Now: func() time.Time { return httpNow }}
			r := httptest.NewRequest(tt.method, tt.target, nil)
			tt.auth(r)
			w := httptest.NewRecorder()
			guarded(g).ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status %d %q, want %d", w.Code, w.Body, tt.status)
			}
			var want []string
			if tt.refusal != "" {
				want = []string{tt.refusal}
				checkRefusalBody(t, w)
			}
			if got := refused.list(); !slices.Equal(got, want) {
				t.Fatalf("Refused got %q, want %q", got, want)
			}
		})
	}
}

// checkRefusalBody checks the JSON body of a refused request.
func checkRefusalBody(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var body refusal
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	want := map[int]int{http.StatusUnauthorized: 110, http.StatusForbidden: 111}[w.Code]
	if body.Code != want || body.Text == "" {
		t.Fatalf("body %+v, want code %d", body, want)
	}
	if strings.Contains(w.Body.String(), secret) {
		t.Fatal("the body shows the secret")
	}
}

func TestGateHTTPReplay(t *testing.T) {
	key := testKey(t, secret)
	var refused refusals
	now := httpNow
	g := &Gate{Key: key, Policy: chatPolicy(), Refused: refused.hook, Now: func() time.Time { return now }}
	h := guarded(g)
	first := httptest.NewRequest("DELETE", "/sessions/s-1", nil)
	key.SignRequest(first, "chat2", "chat1", now)
	again := first.Clone(first.Context())
	fresh := httptest.NewRequest("DELETE", "/sessions/s-1", nil)
	key.SignRequest(fresh, "chat2", "chat1", now)
	now = now.Add(30 * time.Second) // still within the window
	for _, tt := range []struct {
		name   string
		r      *http.Request
		status int
	}{{"first", first, 200}, {"replayed", again, 401}, {"same request signed again", fresh, 200}} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, tt.r)
		if w.Code != tt.status {
			t.Fatalf("%s: status %d, want %d", tt.name, w.Code, tt.status)
		}
	}
	if got, want := refused.list(), []string{"chat2/" + ReasonBadProof}; !slices.Equal(got, want) {
		t.Fatalf("Refused got %q, want %q", got, want)
	}
}

// TestGateHTTPOverTheNetwork signs a request on the client side of a real
// connection, so that the request URI the server checks is the one sent.
func TestGateHTTPOverTheNetwork(t *testing.T) {
	settle.NoLeaks(t)
	key := testKey(t, secret)
	g := &Gate{Key: key, Policy: chatPolicy()}
	s := httptest.NewServer(guarded(g))
	t.Cleanup(s.Close)
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(client.CloseIdleConnections)
	for _, path := range []string{"/sessions/s-1/location", "/sessions/a%2Fb/location?x=1&y=%C3%A9", "/files/%E2%9C%93.txt"} {
		r, err := http.NewRequest("GET", s.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		key.SignRequest(r, "chat2", "chat1", time.Now())
		resp, err := client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", path, resp.StatusCode)
		}
	}
}

// FuzzHTTPAuthorization checks that no Authorization value panics the
// gate, and that none but the genuine ones is admitted.
func FuzzHTTPAuthorization(f *testing.F) {
	key, err := NewKey([]byte(secret))
	if err != nil {
		f.Fatal(err)
	}
	// SignRequest draws a nonce; the fuzzer's workers need the same header.
	ts, nonce := strconv.FormatInt(httpNow.UnixMilli(), 10), "fuzz-nonce"
	signed := "Parley chat2:" + ts + ":" + nonce + ":" +
		key.sum("http", "chat2", "chat1", "GET", "/sessions/s-1/location", ts, nonce)
	admin := "Bearer " + key.AdminToken()
	for _, s := range []string{signed, admin, "", "Bearer ", "Parley ", "Parley :::", "Parley chat2:" +
		strconv.FormatInt(httpNow.UnixMilli(), 10) + ":n:s", "Parley chat2:99999999999999999999:n:s", "Basic Y2hhdDI6eA=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		g := &Gate{Key: key, Policy: chatPolicy(), Now: func() time.Time { return httpNow }}
		r := httptest.NewRequest("GET", "/sessions/s-1/location", nil)
		r.Header.Set("Authorization", h)
		w := httptest.NewRecorder()
		guarded(g).ServeHTTP(w, r)
		switch {
		case w.Code == 200 && h != signed:
			t.Fatalf("Authorization %q admitted", h)
		case w.Code != 200 && h == signed:
			t.Fatalf("the genuine signature refused: %d", w.Code)
		case w.Code == 401 || w.Code == 403:
			checkRefusalBody(t, w)
		case w.Code != 200:
			t.Fatalf("Authorization %q: status %d", h, w.Code)
		}
	})
}

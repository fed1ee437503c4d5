package web_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/parley-chat/parley/web"
)

// TestFavicon checks /favicon.ico: an ICO (magic 0 0 1 0) served as such,
// cacheable, and nothing but GET and HEAD.
func TestFavicon(t *testing.T) {
	srv := httptest.NewServer(web.Favicon())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/favicon.ico")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/x-icon" ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || !bytes.HasPrefix(body, []byte{0, 0, 1, 0}) {
		t.Errorf("GET: HTTP %d %v, body starts % x", resp.StatusCode, resp.Header, body[:min(len(body), 4)])
	}
	resp, err = http.Post(srv.URL+"/favicon.ico", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: HTTP %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

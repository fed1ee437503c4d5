package webapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// benchRefresh serves refreshes at position pos straight to the web API's
// handler (no HTTP client or socket on the customer side), so that what is
// measured is the web API and, when the buffer misses, the chat server.
func benchRefresh(b *testing.B, pos func(next int) int, source string) {
	w := startWeb(b, nil, startChat(b, "chat-1", nil))
	c := w.requestChat(nil)
	next := c.must("refresh", "transcriptPosition", "1").NextPosition
	h := w.srv.Handler()
	form := url.Values{"userId": {c.userID}, "secureKey": {c.key}, "alias": {c.alias},
		"transcriptPosition": {fmt.Sprint(pos(next))}}.Encode()
	path := strings.TrimPrefix(w.base, "http://") + "/" + c.chatID + "/refresh"
	path = path[strings.Index(path, "/"):]
	before := w.srv.Refreshes(source)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), `{"statusCode":0`) {
			b.Fatalf("HTTP %d %s", rec.Code, rec.Body)
		}
	}
	if got := w.srv.Refreshes(source) - before; got < float64(b.N) {
		b.Fatalf("%v of %d refreshes answered by %s", got, b.N, source)
	}
}

// BenchmarkRefreshCached is one idle poll answered from the push buffer.
func BenchmarkRefreshCached(b *testing.B) {
	benchRefresh(b, func(next int) int { return next }, "cache")
}

// BenchmarkRefreshUncached is one poll that reaches the chat server: a
// position past the buffer's end makes every poll resubscribe.
func BenchmarkRefreshUncached(b *testing.B) {
	benchRefresh(b, func(next int) int { return next + 1000 }, "chat-server")
}

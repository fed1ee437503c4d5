package webapi_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// upload posts a multipart upload of content as name.
func (c customer) upload(name, content string) envelope {
	c.w.t.Helper()
	ctype, body := multipartBody(map[string]string{"userId": c.userID, "secureKey": c.key, "alias": c.alias,
		"userData[file-description]": "receipt"}, name, content)
	_, env := do(c.w.t, http.MethodPost, c.w.base+"/"+c.chatID+"/file", ctype, body)
	return env
}

// multipartBody returns the Content-Type and body of a multipart form of
// fields and, unless name is empty, a file field with content.
func multipartBody(fields map[string]string, name, content string) (string, io.Reader) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if name != "" {
		fw, _ := mw.CreateFormFile("file", name)
		io.WriteString(fw, content)
	}
	mw.Close()
	return mw.FormDataContentType(), &body
}

// download returns the HTTP response of a download.
func (c customer) download(fileID string) *http.Response {
	c.w.t.Helper()
	form := url.Values{"userId": {c.userID}, "secureKey": {c.key}, "alias": {c.alias}}
	resp, err := http.PostForm(c.w.base+"/"+c.chatID+"/file/"+fileID+"/download", form)
	if err != nil {
		c.w.t.Fatal(err)
	}
	c.w.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestFiles(t *testing.T) {
	cs := startChat(t, "chat-1", func(o *config.ChatServerOptions) { o.ClientFileTransfer.DeleteFile = true })
	w := startWeb(t, nil, cs)
	c := w.requestChat(nil)
	a := joinAgent(t, cs.addr, c.chatID)

	limits := c.must("file/limits")
	if len(limits.Messages) != 1 || limits.Messages[0].Type != transcript.Notice || limits.Messages[0].Text != "file-client-cfg-get" ||
		limits.Messages[0].UserData["upload-max-files"] != "3" {
		t.Fatalf("limits = %+v", limits)
	}
	up := c.upload("receipt.txt", "total: 42 EUR")
	id := up.UserData["file-id"]
	if up.StatusCode != 0 || id == "" {
		t.Fatalf("upload = %+v", up)
	}
	a.waitFor("FileUploaded", func(m transcript.APIMessage) bool { return m.Type == transcript.FileUploaded })

	resp := c.download(id)
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(got) != "total: 42 EUR" || !strings.Contains(resp.Header.Get("Content-Disposition"), "receipt.txt") {
		t.Errorf("download: HTTP %d %q %v", resp.StatusCode, got, resp.Header)
	}
	thief := c
	thief.key = "0123456789abcdef0123456789abcdef"
	if env := thief.call("file/" + id + "/delete"); env.StatusCode != 2 || env.code() != int(wire.CodeBadSecureKey) {
		t.Errorf("delete with a wrong key = %+v", env)
	}
}

func TestFileDelete(t *testing.T) {
	cs := startChat(t, "chat-1", func(o *config.ChatServerOptions) { o.ClientFileTransfer.DeleteFile = true })
	w := startWeb(t, nil, cs)
	c := w.requestChat(nil)
	joinAgent(t, cs.addr, c.chatID)
	id := c.upload("a.txt", "x").UserData["file-id"]
	if env := c.must("file/" + id + "/delete"); env.ChatID != c.chatID {
		t.Errorf("delete = %+v", env)
	}
	resp := c.download(id)
	var env envelope
	if err := jsonDecode(resp.Body, &env); err != nil || env.StatusCode != 2 {
		t.Errorf("download after delete: HTTP %d %+v %v", resp.StatusCode, env, err)
	}
}

// smallFileLimits are [client-file-transfer] limits a test reaches in a
// few bytes: 10 per file, 15 per chat, 2 files, only .txt.
func smallFileLimits(o *config.ChatServerOptions) {
	ft := &o.ClientFileTransfer
	ft.UploadMaxFileSize, ft.UploadMaxTotalSize, ft.UploadMaxFiles, ft.UploadFileTypes = 10, 15, 2, "txt"
}

// checkUploadLimits uploads, with up, files that reach each limit of
// smallFileLimits in turn, and checks each refusal's error envelope.
func checkUploadLimits(t *testing.T, up func(name, content string) envelope) {
	t.Helper()
	tests := []struct {
		name, file, content string
		code                wire.Code
		option              string // named in the advice
	}{
		{"oversized file", "big.txt", strings.Repeat("x", 11), wire.CodeTooLarge, "upload-max-file-size"},
		{"type not allowed", "run.exe", "x", wire.CodeBadRequest, "upload-file-types"},
		{"first file", "a.txt", strings.Repeat("a", 8), 0, ""},
		{"total size", "b.txt", strings.Repeat("b", 8), wire.CodeNotAllowed, "upload-max-total-size"},
		{"second file", "c.txt", strings.Repeat("c", 7), 0, ""},
		{"too many files", "d.txt", "d", wire.CodeNotAllowed, "upload-max-files"},
	}
	for _, tt := range tests {
		env := up(tt.file, tt.content)
		if tt.code == 0 {
			if env.StatusCode != 0 || env.UserData["file-id"] == "" {
				t.Fatalf("%s: %+v", tt.name, env)
			}
			continue
		}
		if env.StatusCode != 2 || env.code() != int(tt.code) || env.ChatEnded || env.ChatID != "" || len(env.Messages) != 0 ||
			!strings.Contains(env.Errors[0].Advice, tt.option) {
			t.Errorf("%s: %+v; want statusCode 2, code %d, advice naming %s", tt.name, env, tt.code, tt.option)
		}
	}
}

func TestFileUploadLimits(t *testing.T) {
	cs := startChat(t, "chat-1", smallFileLimits)
	w := startWeb(t, nil, cs)
	c := w.requestChat(nil)
	joinAgent(t, cs.addr, c.chatID)
	checkUploadLimits(t, c.upload)
	limits := c.must("file/limits").Messages[0].UserData
	if limits["used-upload-max-files"] != "2" || limits["used-upload-max-total-size"] != "15" {
		t.Errorf("limits after the uploads = %v", limits)
	}
}

// TestFileHopHeaders checks the web API's requests to the chat server's
// file endpoints, through a recording proxy: the client's userId and
// secureKey travel in headers, never in a URL; and the download the
// customer gets is an attachment that no browser renders or sniffs.
func TestFileHopHeaders(t *testing.T) {
	cs := startChat(t, "chat-1", func(o *config.ChatServerOptions) { o.ClientFileTransfer.DeleteFile = true })
	var mu sync.Mutex
	var seen []*http.Request
	target, _ := url.Parse("http://" + cs.addr)
	proxy := httputil.NewSingleHostReverseProxy(target)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/chat/") {
			mu.Lock()
			seen = append(seen, r.Clone(context.Background()))
			mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	w := startWeb(t, nil, chatServer{name: cs.name, addr: strings.TrimPrefix(hs.URL, "http://")})
	c := w.requestChat(nil)
	joinAgent(t, cs.addr, c.chatID)

	c.must("file/limits")
	id := c.upload("a.txt", "hello").UserData["file-id"]
	resp := c.download(id)
	if body, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(body) != "hello" {
		t.Fatalf("download: HTTP %d %q", resp.StatusCode, body)
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff",
		"Content-Security-Policy": "sandbox; default-src 'none'", "Cache-Control": "no-store"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("download %s = %q, want %q", k, got, want)
		}
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, "a.txt") {
		t.Errorf("download Content-Disposition = %q", cd)
	}
	c.must("file/" + id + "/delete")

	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 5 {
		t.Fatalf("%d file requests reached the chat server, want 5 (limits, limits before the upload, upload, download, delete)", len(seen))
	}
	for _, r := range seen {
		if strings.Contains(r.URL.String(), c.key) || strings.Contains(r.URL.RawQuery, "secureKey") {
			t.Errorf("%s %s: the secure key is in the URL", r.Method, r.URL)
		}
		if r.Header.Get("X-Parley-User-Id") != c.userID || r.Header.Get("X-Parley-Secure-Key") != c.key {
			t.Errorf("%s %s: headers %v, want the client's userId and secureKey", r.Method, r.URL, r.Header)
		}
	}
}

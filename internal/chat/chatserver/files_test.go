package chatserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// startFiles starts a chat server with file transfer on and the
// [client-file-transfer] options edit leaves; files false leaves it off.
func startFiles(t *testing.T, edit func(*config.ClientFileTransfer), files bool) *harness {
	t.Helper()
	opts := defaultOptions(t)
	if edit != nil {
		edit(&opts.ClientFileTransfer)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := chatserver.Config{Name: "chat-1", Options: opts, Transcripts: db.Transcripts(), Contacts: db.Contacts()}
	if files {
		cfg.Files = db.Files()
	}
	return serve(t, cfg, db)
}

// fileChat is a chat whose client is logged in on the flex side, with an
// agent joined on the basic side unless asked otherwise.
type fileChat struct {
	t     *testing.T
	h     *harness
	c     client
	agent *peer
}

func newFileChat(t *testing.T, h *harness, withAgent bool) fileChat {
	t.Helper()
	fc := fileChat{t: t, h: h, c: h.login(h.dial(chatserver.FlexPath))}
	if withAgent {
		fc.agent = h.dial(chatserver.BasicPath)
		h.joinAgent(fc.agent, fc.c.sessionID, nil)
	}
	return fc
}

// reply is an HTTP answer read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// filePart is the file field of an upload form.
type filePart struct {
	name, contentType string
	data              []byte
}

func (fc fileChat) url(rest string) string {
	return "http://" + fc.h.addr + "/chat/" + fc.c.sessionID + "/files" + rest
}

// auth is the headers that name the client, as the web API sends them.
func (fc fileChat) auth() http.Header {
	return http.Header{"X-Parley-User-Id": {fc.c.userID}, "X-Parley-Secure-Key": {fc.c.key}}
}

// upload posts an upload form of fields as the client.
func (fc fileChat) upload(f filePart, fields map[string]string) reply {
	fc.t.Helper()
	body, ctype := multipartBody(fc.t, fields, []filePart{f})
	return do(fc.t, http.MethodPost, fc.url(""), ctype, body, fc.auth())
}

// mustUpload uploads f and returns the new file's id.
func (fc fileChat) mustUpload(f filePart, fields map[string]string) string {
	fc.t.Helper()
	r := fc.upload(f, fields)
	var up struct {
		FileID string `json:"fileId"`
		Status status `json:"status"`
	}
	decode(fc.t, r, http.StatusOK, &up)
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(up.FileID) {
		fc.t.Fatalf("fileId %q: want 16 hex characters", up.FileID)
	}
	return up.FileID
}

func (fc fileChat) download(fileID string) reply {
	fc.t.Helper()
	return do(fc.t, http.MethodGet, fc.url("/"+fileID), "", nil, fc.auth())
}

func (fc fileChat) deleteFile(fileID string) reply {
	fc.t.Helper()
	return do(fc.t, http.MethodPost, fc.url("/"+fileID+"/delete"), "", nil, fc.auth())
}

func (fc fileChat) limits() map[string]string {
	fc.t.Helper()
	var l map[string]string
	decode(fc.t, do(fc.t, http.MethodGet, fc.url("/limits"), "", nil, fc.auth()), http.StatusOK, &l)
	return l
}

// multipartBody encodes fields and files as multipart/form-data.
func multipartBody(t testing.TB, fields map[string]string, files []filePart) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": f.name}))
		if f.contentType != "" {
			h.Set("Content-Type", f.contentType)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

// do makes one request with the headers h (nil for none).
func do(t testing.TB, method, u, ctype string, body io.Reader, h http.Header) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// decode checks the status of r and decodes its JSON body into v.
func decode(t testing.TB, r reply, wantStatus int, v any) {
	t.Helper()
	if r.status != wantStatus {
		t.Fatalf("HTTP %d %s, want %d", r.status, r.body, wantStatus)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
}

// wantRefused checks that r is the JSON error status/code with a text.
func wantRefused(t testing.TB, what string, r reply, status int, code wire.Code) {
	t.Helper()
	var e wire.Error
	if r.status != status || json.Unmarshal(r.body, &e) != nil || e.Code != code || e.Text == "" {
		t.Errorf("%s: HTTP %d %s, want %d with code %d", what, r.status, r.body, status, code)
	}
}

// waitFileNotice waits for the agent's push of a file notice of type typ
// for fileID and returns it.
func (fc fileChat) waitFileNotice(typ transcript.EventType, fileID string) transcript.APIMessage {
	fc.t.Helper()
	return fc.agent.waitPush(string(typ), func(m transcript.APIMessage, _ status) bool {
		return m.Type == typ && m.UserData["file-id"] == fileID
	})
}

func TestFileTransferEndToEnd(t *testing.T) {
	h := startFiles(t, nil, true)
	fc := newFileChat(t, h, true)
	data := []byte("%PDF-1.7\x00\x01\xff binary")
	pdf := filePart{name: `C:\Users\ann\report é.pdf`, contentType: "application/pdf", data: data}
	id := fc.mustUpload(pdf, map[string]string{"userData[file-description]": "my invoice", "userData[order]": "42", "alias": "x"})

	got := fc.waitFileNotice(transcript.FileUploaded, id)
	want := map[string]string{"file-id": id, "file-name": "report é.pdf", "file-size": fmt.Sprint(len(data)),
		"file-type": "application/pdf", "file-description": "my invoice", "order": "42"}
	if !mapsEqual(got.UserData, want) || got.From == nil || got.From.Type != transcript.Client {
		t.Errorf("FileUploaded push: userData %v from %+v, want %v from the client", got.UserData, got.From, want)
	}

	dl := fc.download(id)
	if dl.status != http.StatusOK || !bytes.Equal(dl.body, data) || dl.header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("download: HTTP %d, %q, type %q", dl.status, dl.body, dl.header.Get("Content-Type"))
	}
	if _, params, err := mime.ParseMediaType(dl.header.Get("Content-Disposition")); err != nil || params["filename"] != "report é.pdf" {
		t.Errorf("Content-Disposition %q: %v %v", dl.header.Get("Content-Disposition"), params, err)
	}
	for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox; default-src 'none'"} {
		if got := dl.header.Get(k); got != v {
			t.Errorf("download %s = %q, want %q", k, got, v)
		}
	}
	l := fc.limits()
	for k, v := range map[string]string{"used-upload-max-files": "1", "used-upload-max-total-size": fmt.Sprint(len(data)),
		"used-download-attempts": "1", "upload-max-files": "3", "download-attempts": "5", "delete-file": "true",
		"upload-need-agent": "true", "upload-max-file-size": "2097152", "upload-max-total-size": "5242880",
		"upload-file-types": config.DefaultUploadFileTypes} {
		if l[k] != v {
			t.Errorf("limits[%s] = %q, want %q", k, l[k], v)
		}
	}

	var st status
	decode(t, fc.deleteFile(id), http.StatusOK, &st)
	if len(st.Messages) != 1 || st.Messages[0].Type != transcript.FileDeleted || st.SessionID != fc.c.sessionID {
		t.Errorf("delete reply = %+v", st)
	}
	fc.waitFileNotice(transcript.FileDeleted, id)
	wantRefused(t, "download after delete", fc.download(id), http.StatusNotFound, wire.CodeBadRequest)
	wantRefused(t, "second delete", fc.deleteFile(id), http.StatusNotFound, wire.CodeBadRequest)
	if l := fc.limits(); l["used-upload-max-files"] != "0" || l["used-upload-max-total-size"] != "0" {
		t.Errorf("limits after delete: %v", l)
	}
	assertStoredNotices(t, h, fc.c.sessionID, transcript.FileUploaded, transcript.FileDeleted)
}

// assertStoredNotices checks that the session's intermediate transcript
// holds events of the given types, in that order.
func assertStoredNotices(t *testing.T, h *harness, sessionID string, types ...transcript.EventType) {
	t.Helper()
	snap, err := h.ts.Load(t.Context(), sessionID)
	if err != nil {
		t.Fatal(err)
	}
	var got []transcript.EventType
	for _, e := range snap.Events {
		if e.Type == transcript.FileUploaded || e.Type == transcript.FileDeleted {
			got = append(got, e.Type)
		}
	}
	if !slices.Equal(got, types) {
		t.Errorf("stored file notices %v, want %v", got, types)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestDownloadAttempts(t *testing.T) {
	for _, tt := range []struct {
		attempts, ok int
	}{{2, 2}, {0, 6}} { // 0: unlimited
		t.Run(fmt.Sprint(tt.attempts), func(t *testing.T) {
			h := startFiles(t, func(f *config.ClientFileTransfer) { f.DownloadAttempts = tt.attempts }, true)
			fc := newFileChat(t, h, true)
			id := fc.mustUpload(filePart{name: "a.txt", data: []byte("abc")}, nil)
			for i := range tt.ok {
				if r := fc.download(id); r.status != http.StatusOK || string(r.body) != "abc" {
					t.Fatalf("download %d: HTTP %d %s", i+1, r.status, r.body)
				}
			}
			if tt.attempts > 0 {
				wantRefused(t, "download past download-attempts", fc.download(id), http.StatusForbidden, wire.CodeNotAllowed)
			}
			if got := fc.limits()["used-download-attempts"]; got != fmt.Sprint(tt.ok) {
				t.Errorf("used-download-attempts = %s, want %d", got, tt.ok)
			}
		})
	}
}

func TestFileLimitsRefused(t *testing.T) {
	small := func(n int) filePart { return filePart{name: "f.txt", data: bytes.Repeat([]byte("x"), n)} }
	tests := []struct {
		name   string
		edit   func(*config.ClientFileTransfer)
		agent  bool
		before []filePart // uploaded first, successfully
		file   filePart
		status int
		code   wire.Code
	}{
		{"file size", func(f *config.ClientFileTransfer) { f.UploadMaxFileSize = 10 }, true, nil, small(11), 413, wire.CodeTooLarge},
		{"body far over the size", func(f *config.ClientFileTransfer) { f.UploadMaxFileSize = 10 }, true, nil, small(300 << 10), 413, wire.CodeTooLarge},
		{"file at the size", func(f *config.ClientFileTransfer) { f.UploadMaxFileSize = 10 }, true, nil, small(10), 200, 0},
		{"file count", func(f *config.ClientFileTransfer) { f.UploadMaxFiles = 1 }, true, []filePart{small(1)}, small(1), 403, wire.CodeNotAllowed},
		{"uploads off", func(f *config.ClientFileTransfer) { f.UploadMaxFiles = 0 }, true, nil, small(1), 403, wire.CodeNotAllowed},
		{"total size", func(f *config.ClientFileTransfer) { f.UploadMaxTotalSize = 10 }, true, []filePart{small(6)}, small(5), 403, wire.CodeNotAllowed},
		{"total size reached exactly", func(f *config.ClientFileTransfer) { f.UploadMaxTotalSize = 10 }, true, []filePart{small(6)}, small(4), 200, 0},
		{"file type", nil, true, nil, filePart{name: "setup.exe", data: []byte("MZ")}, 400, wire.CodeBadRequest},
		{"no extension", nil, true, nil, filePart{name: "README", data: []byte("x")}, 400, wire.CodeBadRequest},
		{"type in upper case", nil, true, nil, filePart{name: "SCAN.PNG", data: []byte("x")}, 200, 0},
		{"any type", func(f *config.ClientFileTransfer) { f.UploadFileTypes = "" }, true, nil, filePart{name: "setup.exe", data: []byte("MZ")}, 200, 0},
		{"no agent", nil, false, nil, small(1), 403, wire.CodeNotAllowed},
		{"no agent needed", func(f *config.ClientFileTransfer) { f.UploadNeedAgent = false }, false, nil, small(1), 200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := newFileChat(t, startFiles(t, tt.edit, true), tt.agent)
			for _, f := range tt.before {
				fc.mustUpload(f, nil)
			}
			r := fc.upload(tt.file, nil)
			if tt.status == http.StatusOK {
				if r.status != http.StatusOK {
					t.Fatalf("upload: HTTP %d %s, want 200", r.status, r.body)
				}
				return
			}
			wantRefused(t, "upload", r, tt.status, tt.code)
			if got := fc.limits()["used-upload-max-files"]; got != fmt.Sprint(len(tt.before)) {
				t.Errorf("a refused upload was stored: used-upload-max-files = %s", got)
			}
		})
	}
}

func TestDeleteFileRefused(t *testing.T) {
	h := startFiles(t, func(f *config.ClientFileTransfer) { f.DeleteFile = false }, true)
	fc := newFileChat(t, h, true)
	id := fc.mustUpload(filePart{name: "a.txt", data: []byte("abc")}, nil)
	wantRefused(t, "delete with delete-file = false", fc.deleteFile(id), http.StatusForbidden, wire.CodeNotAllowed)
	if r := fc.download(id); r.status != http.StatusOK {
		t.Errorf("download after a refused delete: HTTP %d %s", r.status, r.body)
	}
}

// TestFileBadSecureKey checks that a wrong key on a file request removes the
// client, as on the wire side, and that the key is then no use.
func TestFileBadSecureKey(t *testing.T) {
	for _, endpoint := range []string{"upload", "download", "delete", "limits"} {
		t.Run(endpoint, func(t *testing.T) {
			fc := newFileChat(t, startFiles(t, nil, true), true)
			id := fc.mustUpload(filePart{name: "a.txt", data: []byte("abc")}, nil)
			bad := fc
			bad.c.key = "0123456789abcdef0123456789abcdef"
			r := map[string]func() reply{
				"upload":   func() reply { return bad.upload(filePart{name: "b.txt", data: []byte("x")}, nil) },
				"download": func() reply { return bad.download(id) },
				"delete":   func() reply { return bad.deleteFile(id) },
				"limits": func() reply {
					return do(t, http.MethodGet, bad.url("/limits"), "", nil, bad.auth())
				},
			}[endpoint]()
			wantRefused(t, endpoint+" with a wrong key", r, http.StatusForbidden, wire.CodeBadSecureKey)
			if strings.Contains(string(r.body), "abc") || strings.Contains(string(r.body), id) {
				t.Errorf("the refusal reveals the file: %s", r.body)
			}
			fc.agent.waitPush("client removed", func(m transcript.APIMessage, _ status) bool {
				return m.Type == transcript.ParticipantLeft && m.From != nil && m.From.Type == transcript.Client
			})
			wantRefused(t, "download by the removed client", fc.download(id), http.StatusForbidden, wire.CodeLoggedOut)
		})
	}
}

func TestFileNotFound(t *testing.T) {
	h := startFiles(t, nil, true)
	fc, other := newFileChat(t, h, true), newFileChat(t, h, true)
	id := fc.mustUpload(filePart{name: "a.txt", data: []byte("secret")}, nil)
	stranger := fc
	stranger.c.userID = "0000000000000000"
	nosession := fc
	nosession.c.sessionID = "FFFFFFFFFFFFFFFF"
	tests := []struct {
		name   string
		r      reply
		status int
		code   wire.Code
	}{
		{"unknown file", fc.download("0123456789abcdef"), 404, wire.CodeBadRequest},
		{"delete unknown file", fc.deleteFile("0123456789abcdef"), 404, wire.CodeBadRequest},
		{"another session's file", other.download(id), 404, wire.CodeBadRequest},
		{"delete another session's file", other.deleteFile(id), 404, wire.CodeBadRequest},
		{"unknown user", stranger.download(id), 403, wire.CodeNoSuchUser},
		{"unknown session: download", nosession.download(id), 404, wire.CodeNoSuchSession},
		{"unknown session: upload", nosession.upload(filePart{name: "a.txt", data: []byte("x")}, nil), 404, wire.CodeNoSuchSession},
		{"unknown session: delete", nosession.deleteFile(id), 404, wire.CodeNoSuchSession},
	}
	for _, tt := range tests {
		wantRefused(t, tt.name, tt.r, tt.status, tt.code)
	}
	if r := fc.download(id); r.status != http.StatusOK || string(r.body) != "secret" {
		t.Errorf("the owner's download: HTTP %d %s", r.status, r.body)
	}
}

func TestFileTransferOff(t *testing.T) {
	fc := newFileChat(t, startFiles(t, nil, false), true)
	for name, r := range map[string]reply{
		"upload":   fc.upload(filePart{name: "a.txt", data: []byte("x")}, nil),
		"download": fc.download("0123456789abcdef"),
		"delete":   fc.deleteFile("0123456789abcdef"),
		"limits":   do(t, http.MethodGet, fc.url("/limits"), "", nil, fc.auth()),
	} {
		wantRefused(t, name, r, http.StatusServiceUnavailable, wire.CodeUnavailable)
	}
}

func TestMalformedUpload(t *testing.T) {
	fc := newFileChat(t, startFiles(t, nil, true), true)
	creds := map[string]string{"userData[x]": "y"}
	form := func(fields map[string]string, files ...filePart) func() (io.Reader, string) {
		return func() (io.Reader, string) { return multipartBody(t, fields, files) }
	}
	raw := func(ctype, body string) func() (io.Reader, string) {
		return func() (io.Reader, string) { return strings.NewReader(body), ctype }
	}
	txt := filePart{name: "a.txt", data: []byte("x")}
	tests := []struct {
		name string
		body func() (io.Reader, string)
	}{
		{"form-urlencoded", raw("application/x-www-form-urlencoded", "userId=a&secureKey=b")},
		{"no content type", raw("", "hello")},
		{"multipart without boundary", raw("multipart/form-data", "--x\r\n")},
		{"truncated multipart", raw("multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nabc")},
		{"garbage", raw("multipart/form-data; boundary=xyz", "\x00\x01\x02 not a form")},
		{"no file", form(creds)},
		{"two files", form(creds, txt, txt)},
		{"no file name", form(creds, filePart{name: "", data: []byte("x")})},
		{"file name a dot", form(creds, filePart{name: "..", data: []byte("x")})},
		{"control character in name", form(creds, filePart{name: "a\x01.txt", data: []byte("x")})},
		{"long field", form(map[string]string{"userData[x]": strings.Repeat("y", 9000)}, txt)},
	}
	for _, tt := range tests {
		body, ctype := tt.body()
		wantRefused(t, tt.name, do(t, http.MethodPost, fc.url(""), ctype, body, fc.auth()), http.StatusBadRequest, wire.CodeBadRequest)
	}
	if got := fc.limits()["used-upload-max-files"]; got != "0" {
		t.Errorf("a malformed upload was stored: used-upload-max-files = %s", got)
	}
	big := url.Values{"pad": {strings.Repeat("x", 70<<10)}}
	r := do(t, http.MethodPost, fc.url("/0123456789abcdef/delete"), "application/x-www-form-urlencoded", strings.NewReader(big.Encode()), fc.auth())
	wantRefused(t, "delete with an oversize form", r, http.StatusRequestEntityTooLarge, wire.CodeTooLarge)
}

// TestFileCredentialsInHeadersOnly checks that a file request names its
// client only in the headers: the same userId and secureKey in the query or
// the form authenticate nothing, so that no caller is led to put a key in a
// URL.
func TestFileCredentialsInHeadersOnly(t *testing.T) {
	fc := newFileChat(t, startFiles(t, nil, true), true)
	id := fc.mustUpload(filePart{name: "a.txt", data: []byte("abc")}, nil)
	q := url.Values{"userId": {fc.c.userID}, "secureKey": {fc.c.key}}
	form := func() io.Reader { return strings.NewReader(q.Encode()) }
	body, ctype := multipartBody(t, map[string]string{"userId": fc.c.userID, "secureKey": fc.c.key}, []filePart{{name: "b.txt", data: []byte("x")}})
	tests := []struct {
		name string
		r    reply
	}{
		{"download, key in the query", do(t, http.MethodGet, fc.url("/"+id+"?"+q.Encode()), "", nil, nil)},
		{"limits, key in the query", do(t, http.MethodGet, fc.url("/limits?"+q.Encode()), "", nil, nil)},
		{"delete, key in the form", do(t, http.MethodPost, fc.url("/"+id+"/delete"), "application/x-www-form-urlencoded", form(), nil)},
		{"upload, key in the form", do(t, http.MethodPost, fc.url(""), ctype, body, nil)},
	}
	for _, tt := range tests {
		wantRefused(t, tt.name, tt.r, http.StatusForbidden, wire.CodeNoSuchUser)
	}
	if r := fc.download(id); r.status != http.StatusOK || string(r.body) != "abc" {
		t.Errorf("download with the headers: HTTP %d %s", r.status, r.body)
	}
}

package webapi_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/wire"
)

// gatedBody is an upload body of fields, then a file of size bytes
// produced as it is read; past gate bytes of the file it blocks until
// released, so that a server that wants more before it answers never
// answers.
type gatedBody struct {
	head    *bytes.Reader
	left    int64
	gate    int64
	release chan struct{}
}

// newUploadBody returns the Content-Type and a body carrying fields and a
// file of size bytes named name, gated at gate bytes of the file.
func newUploadBody(fields map[string]string, name string, size, gate int64) (string, *gatedBody) {
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.CreateFormFile("file", name)
	return mw.FormDataContentType(), &gatedBody{head: bytes.NewReader(head.Bytes()), left: size, gate: gate, release: make(chan struct{})}
}

func (b *gatedBody) Read(p []byte) (int, error) {
	if b.head.Len() > 0 {
		return b.head.Read(p)
	}
	if b.gate <= 0 {
		<-b.release
		return 0, io.ErrUnexpectedEOF
	}
	if b.left == 0 {
		return 0, io.EOF // the closing boundary is never sent: the form is cut
	}
	n := int(min(int64(len(p)), b.left, b.gate))
	clear(p[:n])
	b.left -= int64(n)
	b.gate -= int64(n)
	return n, nil
}

// TestUploadCheckedBeforeRead uploads 64 MiB files that must be refused
// (no such chat, a wrong secure key, a size over upload-max-file-size).
// The client sends the fields and 64 KiB of the file, then waits: each
// refusal comes back while it waits, with its code. A server that read
// the file before checking would wait with it (the client gives up after
// 20 s).
func TestUploadCheckedBeforeRead(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, nil, cs)
	c := w.requestChat(nil)
	joinAgent(t, cs.addr, c.chatID)
	victim := w.requestChat(nil) // a wrong key removes the party (ReasonBadKey)
	const size = 64 << 20
	tests := []struct {
		name   string
		c      customer
		chatID string
		key    string
		length int64 // declared Content-Length, -1 for chunked
		gate   int64
		code   wire.Code
	}{
		{"no such chat", c, "0000000000000000", c.key, -1, 64 << 10, wire.CodeNoSuchSession},
		{"wrong secure key", victim, victim.chatID, strings.Repeat("0", 32), -1, 64 << 10, wire.CodeBadSecureKey},
		{"declared too large", c, c.chatID, c.key, size + 1024, 64 << 10, wire.CodeTooLarge},
		// Chunked, the size is known once upload-max-file-size (2 MiB) is passed.
		{"streamed too large", c, c.chatID, c.key, -1, 2<<20 + 64<<10, wire.CodeTooLarge},
	}
	client := &http.Client{Timeout: 20 * time.Second}
	for _, tt := range tests {
		fields := map[string]string{"userId": tt.c.userID, "secureKey": tt.key, "alias": tt.c.alias}
		ctype, body := newUploadBody(fields, "big.txt", size, tt.gate)
		req, _ := http.NewRequest(http.MethodPost, w.base+"/"+tt.chatID+"/file", body)
		req.Header.Set("Content-Type", ctype)
		req.ContentLength = tt.length
		env := sendUpload(t, client, req)
		close(body.release)
		if env.StatusCode != 2 || env.code() != int(tt.code) {
			t.Errorf("%s: %+v, want code %d", tt.name, env, tt.code)
		}
	}
	if used := c.must("file/limits").Messages[0].UserData["used-upload-max-files"]; used != "0" {
		t.Errorf("used-upload-max-files = %s after refused uploads", used)
	}
	if n := w.srv.Refused("upload-size"); n != 1 {
		t.Errorf("parley_webapi_refused_total{reason=upload-size} = %v, want 1", n)
	}
}

// sendUpload sends req, whose body the server may leave unread, and
// decodes the envelope.
func sendUpload(t *testing.T, client *http.Client, req *http.Request) envelope {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	defer resp.Body.Close()
	var env envelope
	if err := jsonDecode(resp.Body, &env); err != nil {
		t.Fatalf("upload: HTTP %d, no envelope: %v", resp.StatusCode, err)
	}
	return env
}

// TestUploadFieldsAfterFile checks that an upload naming its party only
// after the file is refused, the file unread.
func TestUploadFieldsAfterFile(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, nil, cs)
	c := w.requestChat(nil)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "a.txt")
	io.WriteString(fw, "hello")
	mw.WriteField("userId", c.userID)
	mw.WriteField("secureKey", c.key)
	mw.WriteField("alias", c.alias)
	mw.Close()
	_, env := do(t, http.MethodPost, w.base+"/"+c.chatID+"/file", mw.FormDataContentType(), &body)
	if env.StatusCode != 2 || env.code() != int(wire.CodeBadRequest) {
		t.Errorf("upload with the party after the file = %+v, want code 102", env)
	}
}

// TestUploadAborted cuts an upload's connection halfway through its file:
// nothing is stored, the agent is told nothing, and the chat goes on.
func TestUploadAborted(t *testing.T) {
	cs := startChat(t, "chat-1", func(o *config.ChatServerOptions) { o.ClientFileTransfer.UploadMaxFileSize = 1 << 20 })
	w := startWeb(t, nil, cs)
	c := w.requestChat(nil)
	joinAgent(t, cs.addr, c.chatID)
	ctype, body := newUploadBody(map[string]string{"userId": c.userID, "secureKey": c.key, "alias": c.alias}, "half.txt", 1<<20, 1<<20)
	host := strings.TrimPrefix(strings.SplitN(w.base, "/genesys", 2)[0], "http://")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST %s/%s/file HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		strings.TrimPrefix(w.base, "http://"+host), c.chatID, host, ctype, 1<<20+4096)
	go io.CopyN(conn, body, 512<<10) // the fields and half the file
	eventually(t, "the upload streams", func() bool { return w.srv.InFlightUploads() == 1 })
	conn.Close()
	eventually(t, "the web API ends the cut upload", func() bool { return w.srv.InFlightUploads() == 0 })
	if used := c.must("file/limits").Messages[0].UserData["used-upload-max-files"]; used != "0" {
		t.Errorf("used-upload-max-files = %s after an aborted upload", used)
	}
	if up := c.upload("whole.txt", "all of it"); up.StatusCode != 0 {
		t.Errorf("upload after the aborted one = %+v", up)
	}
}

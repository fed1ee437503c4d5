package chatserver_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// stalledUpload is an upload body whose file part never ends: past its
// head it blocks until released. A server that reads the file before it
// checks the request never answers it.
type stalledUpload struct {
	head    *bytes.Reader
	release chan struct{}
}

func (b *stalledUpload) Read(p []byte) (int, error) {
	if b.head.Len() > 0 {
		return b.head.Read(p)
	}
	<-b.release
	return 0, io.ErrUnexpectedEOF
}

// TestUploadCheckedBeforeBody sends uploads whose file never arrives: the
// chat server refuses a wrong secure key and a session at upload-max-files
// from the headers alone, without waiting for a byte of the body.
func TestUploadCheckedBeforeBody(t *testing.T) {
	h := startFiles(t, nil, true)
	fc := newFileChat(t, h, true)
	for range 3 { // upload-max-files
		fc.mustUpload(filePart{name: "a.txt", data: []byte("abc")}, nil)
	}
	victim := newFileChat(t, h, true)
	victim.c.key = "0123456789abcdef0123456789abcdef"
	client := &http.Client{Timeout: 20 * time.Second}
	for _, tt := range []struct {
		name   string
		fc     fileChat
		status int
		code   wire.Code
	}{
		{"wrong secure key", victim, http.StatusForbidden, wire.CodeBadSecureKey},
		{"at upload-max-files", fc, http.StatusForbidden, wire.CodeNotAllowed},
	} {
		var head bytes.Buffer
		mw := multipart.NewWriter(&head)
		mw.CreateFormFile("file", "b.txt")
		body := &stalledUpload{head: bytes.NewReader(head.Bytes()), release: make(chan struct{})}
		req, _ := http.NewRequest(http.MethodPost, tt.fc.url(""), body)
		req.Header = tt.fc.auth()
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := client.Do(req)
		close(body.release)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantRefused(t, tt.name, reply{status: resp.StatusCode, body: b}, tt.status, tt.code)
	}
}

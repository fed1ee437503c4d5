package chatserver

import (
	"bytes"
	"errors"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/wire"
)

// FuzzParseUpload feeds arbitrary bodies to the upload form parser: it must
// either refuse them with a catalogue error or return a file within bounds.
func FuzzParseUpload(f *testing.F) {
	const maxFile = 64
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"userId\"\r\n\r\nU1\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"userData[file-description]\"\r\n\r\nmy file\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--b--\r\n"))
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"C:\\\\x\\\\r\xc3\xa9sum\xc3\xa9.txt\"\r\n\r\nhi\r\n--b--\r\n"))
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename*=utf-8''%E2%82%AC.png\r\n\r\n\r\n--b--\r\n"))
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nno name\r\n--b--\r\n"))
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"userData[]\"\r\n\r\nx\r\n--b"))
	f.Fuzz(func(t *testing.T, body []byte) {
		up, err := parseUpload(multipart.NewReader(bytes.NewReader(body), "b"), maxFile)
		if err != nil {
			e, ok := errors.AsType[*wire.Error](err)
			if !ok || (e.Code != wire.CodeBadRequest && e.Code != wire.CodeTooLarge) || e.Text == "" {
				t.Fatalf("parseUpload error %v is not a 102 or 103 *wire.Error", err)
			}
			return
		}
		if !up.hasFile || len(up.data) > maxFile || up.contentType == "" || up.userData == nil {
			t.Fatalf("parseUpload accepted %+v", up)
		}
		if up.name == "" || len(up.name) > maxNameSize || strings.ContainsAny(up.name, "/\\\x00\r\n") {
			t.Fatalf("parseUpload accepted the file name %q", up.name)
		}
		if _, err := fileName(up.name); err != nil {
			t.Fatalf("an accepted name %q fails its own check: %v", up.name, err)
		}
	})
}

package webapi_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// upload posts a multipart upload of content as name.
func (c customer) upload(name, content string) envelope {
	c.w.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range map[string]string{"userId": c.userID, "secureKey": c.key, "alias": c.alias, "userData[file-description]": "receipt"} {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	io.WriteString(fw, content)
	mw.Close()
	_, env := do(c.w.t, http.MethodPost, c.w.base+"/"+c.chatID+"/file", mw.FormDataContentType(), &body)
	return env
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

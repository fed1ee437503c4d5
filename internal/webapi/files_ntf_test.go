package webapi_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// ntf is the chat-ntf URL of a CometD client of chat ch: the fields it
// sends with every file operation, and the operations themselves.
type ntf struct {
	t      *testing.T
	url    string
	fields map[string]string
}

func ntfOf(t *testing.T, w *web, fields map[string]string) ntf {
	return ntf{t: t, url: strings.TrimSuffix(w.base, "/chat/customer-support") + "/chat-ntf", fields: fields}
}

// form posts operation op, form-encoded, with n's fields and kv.
func (n ntf) form(op string, kv ...string) *http.Response {
	n.t.Helper()
	form := url.Values{"operation": {op}}
	for k, v := range n.fields {
		form.Set(k, v)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	resp, err := http.PostForm(n.url, form)
	if err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// call is form for an operation that answers an envelope.
func (n ntf) call(op string, kv ...string) envelope {
	n.t.Helper()
	var env envelope
	if err := jsonDecode(n.form(op, kv...).Body, &env); err != nil {
		n.t.Fatalf("%s: %v", op, err)
	}
	return env
}

// upload posts a multipart upload the way the Genesys mobile library does:
// the party fields, a description and the file, with no operation field.
func (n ntf) upload(name, content string) envelope {
	n.t.Helper()
	fields := map[string]string{"userData[file-description]": "receipt"}
	for k, v := range n.fields {
		fields[k] = v
	}
	ctype, body := multipartBody(fields, name, content)
	_, env := do(n.t, http.MethodPost, n.url, ctype, body)
	return env
}

func TestChatNtfFiles(t *testing.T) {
	cs := startChat(t, "chat-1", func(o *config.ChatServerOptions) { o.ClientFileTransfer.DeleteFile = true })
	w := startWeb(t, nil, cs)
	c := dialComet(w, chatChannel)
	ch := c.requestChat()
	a := joinAgent(t, cs.addr, ch.chatID)
	// What the Genesys mobile library sends: no chatId; the chat is the
	// one of the client's CometD subscription.
	n := ntfOf(t, w, map[string]string{"userId": ch.userID, "secureKey": ch.key, "alias": ch.alias})

	limits := n.call("fileGetsLimits")
	if limits.StatusCode != 0 || limits.ChatID != ch.chatID || len(limits.Messages) != 1 ||
		limits.Messages[0].Text != "file-client-cfg-get" || limits.Messages[0].UserData["upload-max-files"] != "3" {
		t.Fatalf("fileGetsLimits = %+v", limits)
	}
	up := n.upload("receipt.txt", "total: 42 EUR")
	id := up.UserData["file-id"]
	if up.StatusCode != 0 || id == "" {
		t.Fatalf("upload = %+v", up)
	}
	isUpload := func(m transcript.APIMessage) bool {
		return m.Type == transcript.FileUploaded && m.UserData["file-id"] == id
	}
	a.waitFor("the agent sees the upload", isUpload)
	c.waitMessage("the CometD client is pushed the upload", isUpload)

	resp := n.form("fileDownload", "fileId", id)
	if got, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(got) != "total: 42 EUR" {
		t.Errorf("fileDownload: HTTP %d %q", resp.StatusCode, got)
	}
	if env := n.call("fileDelete", "fileId", id); env.StatusCode != 0 || env.ChatID != ch.chatID {
		t.Errorf("fileDelete = %+v", env)
	}
	c.waitMessage("the CometD client is pushed the delete", func(m transcript.APIMessage) bool { return m.Type == transcript.FileDeleted })

	// What the Genesys Java SDK sends: the secure key alone, operation
	// fileUpload in the multipart form.
	bare := ntfOf(t, w, map[string]string{"secureKey": ch.key, "operation": "fileUpload"})
	if env := bare.upload("second.txt", "2"); env.StatusCode != 0 || env.UserData["file-id"] == "" {
		t.Errorf("upload with the secure key alone = %+v", env)
	}
	// A client that names its chat in full needs no subscription.
	full := ntfOf(t, w, map[string]string{"chatId": ch.chatID, "userId": ch.userID, "secureKey": ch.key, "alias": ch.alias})
	if env := full.call("fileGetsLimits"); env.StatusCode != 0 || env.Messages[0].UserData["used-upload-max-files"] != "1" {
		t.Errorf("fileGetsLimits with chatId = %+v", env)
	}
}

func TestChatNtfBadInput(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, nil, cs)
	c := dialComet(w, chatChannel)
	ch := c.requestChat()
	party := map[string]string{"userId": ch.userID, "secureKey": ch.key, "alias": ch.alias}
	tests := []struct {
		name   string
		fields map[string]string
		op     string
		kv     []string
		code   wire.Code
		ended  bool
	}{
		{"unknown operation", party, "fileRename", nil, wire.CodeBadRequest, false},
		{"no operation", party, "", nil, wire.CodeBadRequest, false},
		{"download without fileId", party, "fileDownload", nil, wire.CodeBadRequest, false},
		{"unknown file", party, "fileDelete", []string{"fileId", "f00"}, wire.CodeBadRequest, false},
		// A guessed key finds no chat, and the party stays (no reason 6).
		{"wrong secureKey", map[string]string{"userId": ch.userID, "secureKey": "0123456789abcdef", "alias": ch.alias}, "fileGetsLimits", nil, wire.CodeNoSuchUser, true},
		{"wrong userId", map[string]string{"userId": "00000000000000AA", "secureKey": ch.key, "alias": ch.alias}, "fileGetsLimits", nil, wire.CodeNoSuchUser, true},
		{"other chatId", map[string]string{"chatId": "00000000DEADBEEF", "secureKey": ch.key}, "fileGetsLimits", nil, wire.CodeNoSuchUser, true},
	}
	for _, tt := range tests {
		env := ntfOf(t, w, tt.fields).call(tt.op, tt.kv...)
		if env.StatusCode != 2 || env.code() != int(tt.code) || env.ChatEnded != tt.ended || env.ChatID != "" || len(env.Messages) != 0 {
			t.Errorf("%s = %+v; want statusCode 2, code %d", tt.name, env, tt.code)
		}
	}
	n := ntfOf(t, w, party)
	if env := n.call("fileGetsLimits"); env.StatusCode != 0 {
		t.Errorf("the chat did not survive the bad requests: %+v", env)
	}
	resp, err := http.Get(n.url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET chat-ntf: HTTP %d", resp.StatusCode)
	}
}

func TestChatNtfUploadLimits(t *testing.T) {
	cs := startChat(t, "chat-1", smallFileLimits)
	w := startWeb(t, nil, cs)
	c := dialComet(w, chatChannel)
	ch := c.requestChat()
	joinAgent(t, cs.addr, ch.chatID)
	checkUploadLimits(t, ntfOf(t, w, map[string]string{"userId": ch.userID, "secureKey": ch.key, "alias": ch.alias}).upload)
}

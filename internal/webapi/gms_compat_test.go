package webapi_test

import (
	"net/url"
	"testing"
)

// The official widget's GMS transport requests a chat at
// /genesys/2/chat/{service}/, and some clients end every operation with a
// slash; GMS accepts both (issue 20, item 1).
func TestRESTTrailingSlash(t *testing.T) {
	w := startWeb(t, nil, startChat(t, "chat-1", nil))
	_, env := w.post("/", url.Values{"firstName": {"Ann"}, "lastName": {"Lee"}})
	if env.StatusCode != 0 || env.ChatID == "" || env.SecureKey == "" {
		t.Fatalf("POST .../customer-support/ = %+v", env)
	}
	c := customer{w: w, chatID: env.ChatID, userID: env.UserID, key: env.SecureKey, alias: env.Alias}
	if env := c.call("refresh/", "transcriptPosition", "1"); env.StatusCode != 0 || len(env.Messages) == 0 {
		t.Errorf("refresh/ = %+v", env)
	}
	if env := c.call("file/limits/"); env.StatusCode != 0 || len(env.Messages) != 1 {
		t.Errorf("file/limits/ = %+v", env)
	}
	if env := c.call("send/", "message", "hi"); env.StatusCode != 0 {
		t.Errorf("send/ = %+v", env)
	}
}

// The official widget asks for the file limits over chat-ntf with
// operation=fileGetLimits; the mobile library spells it fileGetsLimits.
// Both are served (issue 20, item 4).
func TestChatNtfFileGetLimits(t *testing.T) {
	w := startWeb(t, nil, startChat(t, "chat-1", nil))
	c := dialComet(w, chatChannel)
	ch := c.requestChat()
	n := ntfOf(t, w, map[string]string{"userId": ch.userID, "secureKey": ch.key, "alias": ch.alias})
	for _, op := range []string{"fileGetLimits", "fileGetsLimits"} {
		env := n.call(op)
		if env.StatusCode != 0 || len(env.Messages) != 1 || env.Messages[0].Text != "file-client-cfg-get" {
			t.Errorf("%s = %+v", op, env)
		}
	}
}

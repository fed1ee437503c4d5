package webapi_test

import (
	"net/url"
	"strconv"
	"testing"

	"github.com/parley-chat/parley/internal/transcript"
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

// checkWhole fails unless env is GMS's one envelope of chat ch, secureKey
// included: a client that keeps the key of the latest reply keeps working.
func checkWhole(t *testing.T, what string, env envelope, chatID, userID, key string) {
	t.Helper()
	if env.StatusCode != 0 || env.ChatID != chatID || env.UserID != userID || env.SecureKey != key || env.Alias == "" ||
		env.Messages == nil {
		t.Errorf("%s: not the whole envelope: %+v", what, env)
	}
}

// Every Chat V2 reply carries the whole envelope, secureKey included, over
// REST (issue 20, item 3).
func TestRESTEnvelopeHasSecureKey(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, nil, cs)
	c := w.requestChat(nil)
	a := joinAgent(t, cs.addr, c.chatID)
	a.say("Hello Ann", transcript.VisAll)
	calls := [][]string{
		{"refresh", "transcriptPosition", "1"},
		{"refresh", "transcriptPosition", "1"}, // from the buffer
		{"send", "message", "hi"},
		{"send", "message", "hi again", "transcriptPosition", "1"},
		{"startTyping", "message", "Th"},
		{"stopTyping"},
		{"customNotice", "message", "page=checkout"},
		{"pushUrl", "pushUrl", "https://example.com/"},
		{"updateNickname", "nickname", "Annie"},
		{"updateData", "userData[Priority]", "high"},
		{"readReceipt", "transcriptPosition", "2"},
		{"file/limits"},
		{"disconnect"},
	}
	for _, kv := range calls {
		checkWhole(t, kv[0], c.call(kv[0], kv[1:]...), c.chatID, c.userID, c.key)
	}
}

// Every Chat V2 delivery carries the whole envelope, secureKey included,
// over CometD: replies, pushes, and the requestNotifications that resumes
// a chat after a page navigation (issue 20, item 3).
func TestCometDEnvelopeHasSecureKey(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, nil, cs)
	first := dialComet(w, chatChannel)
	ch := first.requestChat()
	a := joinAgent(t, cs.addr, ch.chatID)
	first.waitMessage("the agent's join", func(m transcript.APIMessage) bool { return m.Type == transcript.ParticipantJoined && m.Index == 2 })
	first.op(ch, "sendMessage", "message", "hi")
	first.op(ch, "customNotice", "message", "page=checkout")
	first.waitMessage("hi", isText("hi"))
	a.say("Hello Ann", transcript.VisAll)
	first.waitMessage("Hello Ann", isText("Hello Ann"))
	for i, d := range first.deliveries() {
		checkWhole(t, "delivery "+strconv.Itoa(i), d.env, ch.chatID, ch.userID, ch.key)
	}
	first.disconnect()

	// A new page: it resumes with the key of the latest reply.
	second := dialComet(w, chatChannel)
	second.op(ch, "requestNotifications", "transcriptPosition", 1)
	env := second.waitEnvelope("requestNotifications reply", func(e envelope) bool { return len(e.Messages) > 0 || len(e.Errors) > 0 })
	checkWhole(t, "requestNotifications", env, ch.chatID, ch.userID, ch.key)
	next := ch
	next.key = env.SecureKey
	second.op(next, "sendMessage", "message", "back")
	second.waitMessage("back", isText("back"))
	a.waitFor("back", isText("back"))
}

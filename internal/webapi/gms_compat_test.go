package webapi_test

import (
	"fmt"
	"net/url"
	"strconv"
	"testing"

	"github.com/parley-chat/parley/internal/config"
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

// A reply that carries no events never leads the client past events it was
// not given: an agent's message at index 6, then the customer's
// customNotice; a refresh from the notice reply's nextPosition returns the
// agent's message, through the web API that buffers the client's
// refreshes and through another one (issue 20, item 8).
func TestRESTQuietReplyKeepsPosition(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, nil, cs)
	other := startWeb(t, nil, cs)
	c := w.requestChat(nil)
	a := joinAgent(t, cs.addr, c.chatID)
	for _, text := range []string{"three", "four", "five"} {
		a.say(text, transcript.VisAll)
	}
	pos := 1
	eventually(t, "events 1-5 refreshed", func() bool {
		pos = c.must("refresh", "transcriptPosition", strconv.Itoa(pos)).NextPosition
		return pos == 6
	})
	// The agent's next message is at index 6; the client has 1-5.
	for i, via := range []customer{c, c.on(other)} {
		for _, op := range [][]string{{"customNotice", "message", "page=checkout"}, {"send", "message", "hi"}} {
			text := fmt.Sprintf("agent %d %s", i, op[0])
			a.say(text, transcript.VisAll)
			a.waitFor(text, isText(text))
			env := via.must(op[0], op[1:]...)
			got := c.must("refresh", "transcriptPosition", strconv.Itoa(env.NextPosition))
			if !hasText(got.Messages, text) {
				t.Errorf("%s via %s: nextPosition %d, the refresh from there returned %s",
					op[0], via.w.base, env.NextPosition, summary(got.Messages))
			}
		}
	}
}

func hasText(msgs []transcript.APIMessage, text string) bool {
	for _, m := range msgs {
		if m.Text == text {
			return true
		}
	}
	return false
}

// The official widget sends the customer's unfinished text as message on
// every refresh: a typing preview. The agent is told TypingStarted with the
// text when it changed since the last preview, and nothing lands in the
// transcript as a Message (issue 20, item 2).
func TestRESTRefreshMessageIsTypingPreview(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, nil, cs)
	c := w.requestChat(nil)
	a := joinAgent(t, cs.addr, c.chatID)
	for _, text := range []string{"Hel", "Hel", "Hel", "Hello"} {
		c.must("refresh", "transcriptPosition", "1", "message", text)
	}
	a.waitFor("the preview Hello", func(m transcript.APIMessage) bool { return m.Type == transcript.TypingStarted && m.Text == "Hello" })
	a.say("marker", transcript.VisAll)
	a.waitFor("marker", isText("marker"))
	var previews []string
	a.mu.Lock()
	for _, m := range a.seen {
		switch {
		case m.Type == transcript.Message && m.Text != "marker":
			t.Errorf("a preview reached the agent as a message: %+v", m)
		case m.Type == transcript.TypingStarted:
			previews = append(previews, m.Text)
		}
	}
	a.mu.Unlock()
	if fmt.Sprint(previews) != "[Hel Hello]" {
		t.Errorf("previews = %q, want each changed text once", previews)
	}
	for _, m := range c.must("refresh", "transcriptPosition", "1").Messages {
		if m.Type == transcript.Message && m.Text != "marker" {
			t.Errorf("a preview is in the transcript: %+v", m)
		}
	}
}

// The official widget sends customNotice without message (only
// eventAttributes, e.g. {"purpose":"cancel-idle-timer"}) when the customer
// touches the chat during an idle alert; message is optional, over REST
// and CometD (issue 20, item 5, first part).
func TestCustomNoticeWithoutMessage(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, nil, cs)
	c := w.requestChat(nil)
	a := joinAgent(t, cs.addr, c.chatID)
	if env := c.call("customNotice"); env.StatusCode != 0 {
		t.Errorf("REST customNotice without message = %+v", env)
	}
	b := dialComet(w, chatChannel)
	ch := b.requestChat()
	if ack := b.op(ch, "customNotice", "eventAttributes", map[string]any{"purpose": "cancel-idle-timer"}); ack.Successful == nil || !*ack.Successful {
		t.Errorf("CometD customNotice without message: publish refused: %+v", ack)
	}
	b.waitMessage("the notice", func(m transcript.APIMessage) bool { return m.Type == transcript.CustomNotice })
	a.waitFor("the REST notice", func(m transcript.APIMessage) bool { return m.Type == transcript.CustomNotice })
}

// With transcript-auto-save = 2 the customer is told of each save too, as
// docs/options.md promises: a REST client's refresh carries the `save`
// notice after its message (issue 19, item 7). It is never stored.
func TestAutoSave2NotifiesRESTCustomer(t *testing.T) {
	cs := startChat(t, "chat-1", func(o *config.ChatServerOptions) { o.Settings.TranscriptAutoSave = 2 })
	w := startWeb(t, nil, cs)
	c := w.requestChat(nil)
	c.must("send", "message", "saved?")
	saves := func() (n int) {
		for _, m := range c.must("refresh", "transcriptPosition", "1").Messages {
			if m.Type == transcript.Notice && m.Text == "save" {
				n++
			}
		}
		return n
	}
	eventually(t, "a save notice in the customer's refresh", func() bool { return saves() > 0 })
}

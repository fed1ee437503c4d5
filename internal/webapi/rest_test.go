package webapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// twoChats starts chat-1 and chat-2 and a web API on them.
func twoChats(t *testing.T) (*web, map[string]chatServer) {
	c1, c2 := startChat(t, "chat-1", nil), startChat(t, "chat-2", nil)
	return startWeb(t, nil, c1, c2), map[string]chatServer{"chat-1": c1, "chat-2": c2}
}

func TestRESTEndToEnd(t *testing.T) {
	w, chats := twoChats(t)
	c := w.requestChat(url.Values{"text": {"Where is my order?"}})
	a := joinAgent(t, chats[c.alias].addr, c.chatID)
	a.waitFor("first message", func(m transcript.APIMessage) bool { return m.Text == "Where is my order?" })
	a.say("Hello Ann", transcript.VisAll)
	a.say("asking my supervisor", transcript.VisInt)

	var texts []string
	pos := 1
	eventually(t, "agent message in a refresh", func() bool {
		env := c.must("refresh", "transcriptPosition", fmt.Sprint(pos))
		for _, m := range env.Messages {
			texts = append(texts, m.Text)
		}
		pos = env.NextPosition
		return strings.Contains(strings.Join(texts, "|"), "Hello Ann")
	})
	if strings.Contains(strings.Join(texts, "|"), "supervisor") {
		t.Errorf("client saw an INT message: %q", texts)
	}

	sent := c.must("send", "message", "Thanks", "messageType", "text", "transcriptPosition", fmt.Sprint(pos))
	if n := len(sent.Messages); n == 0 || sent.Messages[n-1].Text != "Thanks" || sent.Messages[n-1].MessageType != "text" {
		t.Errorf("send with transcriptPosition returned %+v", sent.Messages)
	}
	a.waitFor("client message", func(m transcript.APIMessage) bool { return m.Text == "Thanks" })

	notices := []struct {
		op, field, value string
		want             transcript.EventType
	}{
		{"startTyping", "message", "Th", transcript.TypingStarted},
		{"stopTyping", "", "", transcript.TypingStopped},
		{"pushUrl", "pushUrl", "https://example.com/order/42", transcript.PushURL},
		{"customNotice", "message", "cobrowse-start", transcript.CustomNotice},
		{"updateNickname", "nickname", "Annie", transcript.NicknameUpdated},
	}
	for _, n := range notices {
		c.must(n.op, n.field, n.value)
		a.waitFor(n.op, func(m transcript.APIMessage) bool { return m.Type == n.want && m.Text == n.value })
	}
	if env := c.must("updateData", "userData[Order]", "43", "userData[Priority]", "high"); len(env.Messages) != 0 {
		t.Errorf("updateData returned messages %+v", env.Messages)
	}
	if env := c.must("readReceipt", "transcriptPosition", "3"); len(env.Messages) != 0 || env.ChatID != c.chatID {
		t.Errorf("readReceipt = %+v", env)
	}
	// A refresh's message is a typing preview (the official widget's draft).
	c.must("refresh", "transcriptPosition", "1", "message", "one more")
	a.waitFor("the typing preview", func(m transcript.APIMessage) bool {
		return m.Type == transcript.TypingStarted && m.Text == "one more" && m.From.Nickname == "Annie"
	})

	if env := c.must("disconnect"); env.ChatEnded {
		t.Error("disconnect ended the chat although an agent is in it")
	}
	a.waitFor("client left", func(m transcript.APIMessage) bool { return m.Type == transcript.ParticipantLeft })
	after := c.call("refresh", "transcriptPosition", "1")
	if after.StatusCode != 2 || after.code() != int(wire.CodeLoggedOut) || !after.ChatEnded || len(after.Messages) != 0 {
		t.Errorf("refresh after disconnect = %+v", after)
	}
}

func TestRequestChatWithNickname(t *testing.T) {
	w := startWeb(t, nil, startChat(t, "chat-1", nil))
	_, env := w.post("", url.Values{"nickname": {"Zed"}})
	if env.StatusCode != 0 || env.Messages[0].From.Nickname != "Zed" {
		t.Errorf("request chat = %+v", env)
	}
}

// TestRefreshPositions polls through two web API instances, so that
// refreshes alternate between a buffer and the chat server, and checks
// that every event the client may see arrives exactly once, in order.
func TestRefreshPositions(t *testing.T) {
	c1 := startChat(t, "chat-1", nil)
	w1, w2 := startWeb(t, nil, c1), startWeb(t, nil, c1)
	c := w1.requestChat(nil)
	a := joinAgent(t, c1.addr, c.chatID)

	var got []transcript.APIMessage
	pos := 1
	poll := func(via customer) {
		env := via.must("refresh", "transcriptPosition", fmt.Sprint(pos))
		got = append(got, env.Messages...)
		pos = env.NextPosition
	}
	for i := range 20 {
		a.say(fmt.Sprint("public ", i), transcript.VisAll)
		a.say(fmt.Sprint("internal ", i), transcript.VisInt)
		poll(c)
		poll(c.on(w2))
		poll(c)
	}
	eventually(t, "the last message", func() bool {
		poll(c)
		return len(got) > 0 && got[len(got)-1].Text == "public 19"
	})
	var texts []string
	for i, m := range got {
		if i > 0 && m.Index <= got[i-1].Index {
			t.Fatalf("event %d after %d: repeated or out of order", m.Index, got[i-1].Index)
		}
		if m.Visibility != transcript.VisAll {
			t.Errorf("client saw %s event %q", m.Visibility, m.Text)
		}
		if m.Type == transcript.Message {
			texts = append(texts, m.Text)
		}
	}
	for i := range 20 {
		if want := fmt.Sprint("public ", i); i >= len(texts) || texts[i] != want {
			t.Fatalf("messages %q: want %q at %d", texts, want, i)
		}
	}
	if w1.srv.Refreshes("cache") == 0 || w1.srv.Refreshes("chat-server") == 0 {
		t.Errorf("refreshes: cache %v, chat server %v; want both paths used",
			w1.srv.Refreshes("cache"), w1.srv.Refreshes("chat-server"))
	}
}

// TestIdlePollsStayInTheWebAPI checks the requirement: once
// subscribed, polls that find nothing new cost no chat server round trip.
func TestIdlePollsStayInTheWebAPI(t *testing.T) {
	w := startWeb(t, nil, startChat(t, "chat-1", nil))
	c := w.requestChat(nil)
	env := c.must("refresh", "transcriptPosition", "1")
	for range 50 {
		env = c.must("refresh", "transcriptPosition", fmt.Sprint(env.NextPosition))
		if len(env.Messages) != 0 {
			t.Fatalf("idle poll returned %+v", env.Messages)
		}
	}
	if up := w.srv.Refreshes("chat-server"); up != 1 || w.srv.Refreshes("cache") != 50 {
		t.Errorf("chat server refreshes %v, cache %v; want 1 and 50", up, w.srv.Refreshes("cache"))
	}
}

func TestWrongSecureKey(t *testing.T) {
	w := startWeb(t, nil, startChat(t, "chat-1", nil))
	for _, cached := range []bool{false, true} {
		c := w.requestChat(nil)
		if cached {
			c.must("refresh", "transcriptPosition", "1")
		}
		thief := c
		thief.key = "0123456789abcdef0123456789abcdef"
		for _, op := range []string{"refresh", "send"} {
			env := thief.call(op, "transcriptPosition", "1", "message", "hi")
			if env.StatusCode != 2 || env.code() != int(wire.CodeBadSecureKey) || len(env.Messages) != 0 || env.NextPosition != 0 {
				t.Errorf("cached %v: %s with a wrong key = %+v", cached, op, env)
			}
		}
	}
}

func TestErrorsOfExistingChats(t *testing.T) {
	w := startWeb(t, nil, startChat(t, "chat-1", nil))
	c := w.requestChat(nil)
	unknownChat, unknownAlias := c, c
	unknownChat.chatID = "00000000DEADBEEF"
	unknownAlias.alias = "chat-9"
	tests := []struct {
		name   string
		c      customer
		status int
		code   wire.Code
		ended  bool
	}{
		{"unknown chatId", unknownChat, 2, wire.CodeNoSuchSession, true},
		{"unknown alias", unknownAlias, 2, wire.CodeBadRequest, false},
	}
	for _, tt := range tests {
		for _, op := range []string{"refresh", "send", "startTyping"} {
			env := tt.c.call(op, "message", "x")
			if env.StatusCode != tt.status || env.code() != int(tt.code) || env.ChatEnded != tt.ended || len(env.Messages) != 0 {
				t.Errorf("%s %s = %+v", tt.name, op, env)
			}
		}
	}
}

func TestUnknownService(t *testing.T) {
	w := startWeb(t, func(o *config.WebAPIOptions) { o.Endpoints = map[string]string{"customer-support": "default"} },
		startChat(t, "chat-1", nil))
	c := w.requestChat(nil) // customer-support is listed
	sales := *w
	sales.base = strings.Replace(w.base, "customer-support", "sales", 1)
	if _, env := sales.post("", url.Values{"nickname": {"Zed"}}); env.StatusCode != 2 || env.code() != int(wire.CodeBadRequest) {
		t.Errorf("request chat on an unknown service = %+v", env)
	}
	if env := c.on(&sales).call("refresh"); env.StatusCode != 2 {
		t.Errorf("refresh on an unknown service = %+v", env)
	}
}

func TestMalformedRequests(t *testing.T) {
	w := startWeb(t, nil, startChat(t, "chat-1", nil))
	c := w.requestChat(nil)
	party := "userId=" + c.userID + "&secureKey=" + c.key + "&alias=" + c.alias
	chat := "/" + c.chatID
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name, method, path, ctype, body string
		http                            int
		code                            wire.Code
	}{
		{"GET request chat", http.MethodGet, "", "", "", 405, wire.CodeNotAllowed},
		{"PUT refresh", http.MethodPut, chat + "/refresh", form, party, 405, wire.CodeNotAllowed},
		{"no name", http.MethodPost, "", form, "subject=x", 200, wire.CodeBadRequest},
		{"only firstName", http.MethodPost, "", form, "firstName=Ann", 200, wire.CodeBadRequest},
		{"bad escape", http.MethodPost, "", form, "nickname=%zz", 200, wire.CodeBadRequest},
		{"bad content type", http.MethodPost, "", "application/json", `{"nickname":"x"}`, 200, wire.CodeBadRequest},
		{"bad multipart", http.MethodPost, "", "multipart/form-data; boundary=x", "--y\r\n", 200, wire.CodeBadRequest},
		{"unclosed userData", http.MethodPost, "", form, "nickname=x&userData[a=1", 200, wire.CodeBadRequest},
		{"nested userData", http.MethodPost, "", form, "nickname=x&userData[a][b]=1", 200, wire.CodeBadRequest},
		{"empty userData key", http.MethodPost, "", form, "nickname=x&userData[]=1", 200, wire.CodeBadRequest},
		{"too many userData", http.MethodPost, "", form, "nickname=x" + manyUserData(101), 200, wire.CodeBadRequest},
		{"oversized body", http.MethodPost, "", form, "nickname=" + strings.Repeat("x", 70<<10), 200, wire.CodeTooLarge},
		{"no userId", http.MethodPost, chat + "/refresh", form, "secureKey=" + c.key + "&alias=" + c.alias, 200, wire.CodeBadRequest},
		{"no secureKey", http.MethodPost, chat + "/refresh", form, "userId=" + c.userID + "&alias=" + c.alias, 200, wire.CodeBadRequest},
		{"no alias", http.MethodPost, chat + "/refresh", form, "userId=" + c.userID + "&secureKey=" + c.key, 200, wire.CodeBadRequest},
		{"long userId", http.MethodPost, chat + "/refresh", form, "secureKey=" + c.key + "&alias=" + c.alias + "&userId=" + strings.Repeat("1", 200), 200, wire.CodeBadRequest},
		{"negative position", http.MethodPost, chat + "/refresh", form, party + "&transcriptPosition=-1", 200, wire.CodeBadRequest},
		{"text position", http.MethodPost, chat + "/refresh", form, party + "&transcriptPosition=abc", 200, wire.CodeBadRequest},
		{"huge position", http.MethodPost, chat + "/send", form, party + "&message=x&transcriptPosition=99999999999", 200, wire.CodeBadRequest},
		{"send without message", http.MethodPost, chat + "/send", form, party, 200, wire.CodeBadRequest},
		{"pushUrl without url", http.MethodPost, chat + "/pushUrl", form, party, 200, wire.CodeBadRequest},
		{"nickname empty", http.MethodPost, chat + "/updateNickname", form, party, 200, wire.CodeBadRequest},
		{"updateData without data", http.MethodPost, chat + "/updateData", form, party, 200, wire.CodeBadRequest},
		{"unknown operation", http.MethodPost, chat + "/explode", form, party, 200, wire.CodeBadRequest},
		{"unknown file operation", http.MethodPost, chat + "/file/f1/rename", form, party, 200, wire.CodeBadRequest},
		{"upload not multipart", http.MethodPost, chat + "/file", form, party, 200, wire.CodeBadRequest},
		{"unknown path", http.MethodPost, chat + "/a/b/c/d/e", form, party, 404, wire.CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, env := do(t, tt.method, w.base+tt.path, tt.ctype, strings.NewReader(tt.body))
			if code != tt.http || env.StatusCode != 2 || env.code() != int(tt.code) || len(env.Messages) != 0 || env.ChatID != "" {
				t.Errorf("HTTP %d %+v; want HTTP %d, statusCode 2, code %d", code, env, tt.http, tt.code)
			}
		})
	}
	if env := c.must("refresh", "transcriptPosition", "1"); len(env.Messages) == 0 {
		t.Error("the chat did not survive the bad requests")
	}
}

func manyUserData(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "&userData[k%d]=v", i)
	}
	return b.String()
}

// TestWrongUserID: a userId that is not a party of the chat is error 8201
// over REST and CometD; it reveals nothing and the real client goes on.
func TestWrongUserID(t *testing.T) {
	w := startWeb(t, nil, startChat(t, "chat-1", nil))
	c := w.requestChat(nil)
	c.must("refresh", "transcriptPosition", "1") // the party has a push subscription now
	stranger := c
	stranger.userID = "00000000000000AA"
	for _, op := range []string{"refresh", "send", "updateNickname", "file/limits"} {
		env := stranger.call(op, "transcriptPosition", "1", "message", "hi", "nickname", "Eve")
		if env.StatusCode != 2 || env.code() != int(wire.CodeNoSuchUser) || !env.ChatEnded || len(env.Messages) != 0 || env.ChatID != "" {
			t.Errorf("%s with a wrong userId = %+v", op, env)
		}
	}
	cm := dialComet(w, chatChannel)
	cm.op(cometChat{chatID: c.chatID, userID: stranger.userID, key: c.key, alias: c.alias}, "sendMessage", "message", "hi")
	if env := cm.waitEnvelope("8201 over CometD", func(e envelope) bool { return len(e.Errors) > 0 }); env.code() != int(wire.CodeNoSuchUser) {
		t.Errorf("CometD sendMessage with a wrong userId = %+v", env)
	}
	if env := c.must("refresh", "transcriptPosition", "1"); len(env.Messages) != 1 || env.Messages[0].Type != transcript.ParticipantJoined {
		t.Errorf("the real client sees %+v", env.Messages)
	}
}

// TestUpdateDataMerges: updateData adds to and overwrites the chat's user
// data, keeping the rest; the contact store's record of the chat has it.
func TestUpdateDataMerges(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, nil, cs)
	c := w.requestChat(nil) // userData[Order]=42
	if env := c.must("updateData", "userData[Priority]", "high", "userData[Order]", "43"); len(env.Messages) != 0 {
		t.Errorf("updateData reply = %+v", env)
	}
	c.must("disconnect") // no agent: the chat ends and is saved
	var ud map[string]string
	eventually(t, "the chat in the contact store", func() bool {
		in, err := cs.db.Contacts().Interaction(context.Background(), c.chatID)
		ud = in.UserData
		return err == nil
	})
	if ud["Priority"] != "high" || ud["Order"] != "43" || ud["FirstName"] != "Ann" {
		t.Errorf("user data at the end of the chat = %v; want Priority high, Order 43 and FirstName Ann", ud)
	}
}

// TestServicesMappedToQueues: with [endpoints] listing services, a chat
// requested on a service (REST or CometD) is submitted to its queue.
func TestServicesMappedToQueues(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ixnAddr := startIxn(t, db, "      queue:default: {routing: builtin}\n      queue:sales-queue: {routing: builtin}\n")
	cs := startLinkedChat(t, db, "chat-1", ixnAddr)
	w := startWeb(t, func(o *config.WebAPIOptions) {
		o.Endpoints = map[string]string{"customer-support": "default", "sales": "sales-queue"}
	}, cs.chatServer)
	sales := *w
	sales.base = strings.Replace(w.base, "customer-support", "sales", 1)
	want := map[string]string{
		w.requestChat(nil).chatID:                                  "default",
		sales.requestChat(nil).chatID:                              "sales-queue",
		dialComet(w, "/service/chatV2/sales").requestChat().chatID: "sales-queue",
	}
	got := map[string]string{}
	eventually(t, "the chats in the interaction server", func() bool {
		ins, err := db.Interactions().Interactions(context.Background())
		for _, in := range ins {
			got[in.ID] = in.Queue
		}
		return err == nil && len(got) >= len(want)
	})
	for id, q := range want {
		if got[id] != q {
			t.Errorf("chat %s is in queue %q, want %q", id, got[id], q)
		}
	}
}

package webapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/transcript"
)

// TestCometDBasicAuthField: the auth:{encoded} object a Genesys client adds
// to every operation when GMS Basic authentication is configured is
// accepted on every operation and goes nowhere: not into the chat's user
// data, not into the transcript, not back to the client.
func TestCometDBasicAuthField(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, nil, cs)
	c := dialComet(w, chatChannel)
	const secret = "dXNlcjpzM2NyZXQ=" // user:s3cret
	auth := map[string]any{"encoded": secret}
	env := c.requestChatWith(map[string]any{"nickname": "Ann", "auth": auth, "userData": map[string]any{"Order": "42"}})
	ch := cometChat{chatID: env.ChatID, userID: env.UserID, key: env.SecureKey, alias: env.Alias}
	a := joinAgent(t, cs.addr, ch.chatID)
	if r := c.op(ch, "sendMessage", "message", "hi", "auth", auth); !*r.Successful {
		t.Fatalf("sendMessage with auth: %+v", r)
	}
	a.waitFor("the message", func(m transcript.APIMessage) bool { return m.Text == "hi" })
	snap, err := cs.db.Transcripts().Load(context.Background(), ch.chatID)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Session.UserData["Order"] != "42" {
		t.Errorf("user data %v, want Order 42", snap.Session.UserData)
	}
	for _, e := range snap.Events {
		if b, _ := json.Marshal(e); strings.Contains(string(b), secret) {
			t.Errorf("stored event %s", b)
		}
	}
	for k, v := range snap.Session.UserData {
		if strings.Contains(k, "auth") || strings.Contains(v, secret) {
			t.Errorf("user data %q=%q carries the credentials", k, v)
		}
	}
	for _, d := range c.deliveries() {
		if b, _ := json.Marshal(d.env); strings.Contains(string(b), secret) {
			t.Errorf("delivered %s", b)
		}
	}
}

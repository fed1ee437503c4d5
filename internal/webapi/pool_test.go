package webapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// admin posts to a chat server's /admin/{action}.
func admin(t *testing.T, c chatServer, action string) {
	t.Helper()
	resp, err := http.Post("http://"+c.addr+"/admin/"+action, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestSelection(t *testing.T) {
	w, chats := twoChats(t)
	aliases := func(n int) map[string]int {
		got := map[string]int{}
		for range n {
			got[w.requestChat(nil).alias]++
		}
		return got
	}
	admin(t, chats["chat-2"], "disable")
	eventually(t, "chat-2 not selectable", func() bool { return !w.srv.Accepting("chat-2") })
	if got := aliases(3); got["chat-1"] != 3 {
		t.Errorf("with chat-2 disabled: %v, want all on chat-1", got)
	}
	admin(t, chats["chat-2"], "enable")
	eventually(t, "chat-2 selectable", func() bool { return w.srv.Accepting("chat-2") })
	if got := aliases(3); got["chat-2"] != 3 {
		t.Errorf("after enabling chat-2: %v, want the least loaded (chat-2) to take all 3", got)
	}
	if got := aliases(2); got["chat-1"] != 1 || got["chat-2"] != 1 {
		t.Errorf("with equal loads: %v, want one each", got)
	}

	admin(t, chats["chat-1"], "disable")
	admin(t, chats["chat-2"], "disable")
	eventually(t, "none selectable", func() bool { return !w.srv.Accepting("chat-1") && !w.srv.Accepting("chat-2") })
	_, env := w.post("", url.Values{"nickname": {"Zed"}})
	if env.StatusCode != 1 || env.code() != int(wire.CodeUnavailable) || env.Errors[0].Advice != "no chat server available" || env.ChatEnded {
		t.Errorf("request chat with every server disabled = %+v", env)
	}
}

// TestSecondWebAPI serves a chat created through one web API through
// another, by its alias alone.
func TestSecondWebAPI(t *testing.T) {
	c1, c2 := startChat(t, "chat-1", nil), startChat(t, "chat-2", nil)
	w1, w2 := startWeb(t, nil, c1, c2), startWeb(t, nil, c1, c2)
	c := w1.requestChat(nil)
	other := c.on(w2)
	other.must("send", "message", "via the second web API")
	env := other.must("refresh", "transcriptPosition", "1")
	if last := env.Messages[len(env.Messages)-1]; last.Text != "via the second web API" || env.Alias != c.alias {
		t.Errorf("refresh through the second web API = %+v", env)
	}
	if env := c.must("refresh", "transcriptPosition", "1"); len(env.Messages) != 2 {
		t.Errorf("refresh through the first web API = %+v", env.Messages)
	}
}

// TestPushSubscriptionLiveness: while a REST client polls, the chat server's
// liveness checks (RequestCheckParty, every flex-push-timeout) are answered
// "connected"; once it stops, the subscription is dropped after
// rest-subscription-idle and flex-disconnect-timeout removes the client.
func TestPushSubscriptionLiveness(t *testing.T) {
	cs := startChat(t, "chat-1", func(o *config.ChatServerOptions) {
		o.Settings.FlexPushTimeout = time.Second
		o.Settings.FlexDisconnectTimeout = time.Second
	})
	w := startWeb(t, func(o *config.WebAPIOptions) { o.Settings.RestSubscriptionIdle = time.Second }, cs)
	c := w.requestChat(nil)
	a := joinAgent(t, cs.addr, c.chatID)
	pos := c.must("refresh", "transcriptPosition", "1").NextPosition
	for end := time.Now().Add(2500 * time.Millisecond); time.Now().Before(end); {
		env := c.must("refresh", "transcriptPosition", fmt.Sprint(pos))
		for _, m := range env.Messages {
			if m.Type == transcript.ParticipantLeft {
				t.Fatalf("client removed while polling: %+v", m)
			}
		}
		pos = env.NextPosition
		time.Sleep(100 * time.Millisecond) // the client's polling interval, not a wait for a condition
	}
	left := a.waitFor("client removed", func(m transcript.APIMessage) bool {
		return m.Type == transcript.ParticipantLeft && m.From != nil && m.From.Type == transcript.Client
	})
	if code := left.EventAttributes.System["quit-reason-code"]; code != "3" {
		t.Errorf("client left with reason %q, want 3 (disconnect)", code)
	}
}

// TestFullChatServerIsSkipped: a chat server that reached its
// limit-for-sessions since the web API last read its status refuses the
// login as unavailable; the web API creates the chat on the next one, or,
// with none left, answers statusCode 1 so the client retries.
func TestFullChatServerIsSkipped(t *testing.T) {
	c1 := startChat(t, "chat-1", func(o *config.ChatServerOptions) { o.Settings.LimitForSessions = 1 })
	c2 := startChat(t, "chat-2", nil)
	stale := func(o *config.WebAPIOptions) { o.Settings.StatusPollInterval = time.Minute }
	w, only := startWeb(t, stale, c1, c2), startWeb(t, stale, c1)

	// Fill chat-1 behind the web APIs' backs: the status they read says it
	// is empty, so with chat-2 as empty it comes first (ties go by name).
	flex, err := wire.Dial(context.Background(), "ws://"+c1.addr+"/wire/flex", wire.Options{})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, func(ctx context.Context) error {
		flex.Serve(ctx, wire.HandlerFunc(func(context.Context, *wire.Conn, wire.Message) {}))
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := flex.Request(ctx, wire.RequestLogin, map[string]string{"nickname": "Direct", "queue": "default"}, nil); err != nil {
		t.Fatal(err)
	}
	if !w.srv.Accepting("chat-1") {
		t.Fatal("the web API read chat-1's status again: the test needs it stale")
	}

	if c := w.requestChat(nil); c.alias != "chat-2" {
		t.Errorf("request chat went to %s, want chat-2: a full chat-1 must be skipped", c.alias)
	}
	_, env := only.post("", url.Values{"nickname": {"Zed"}})
	if env.StatusCode != 1 || env.code() != int(wire.CodeUnavailable) || env.ChatEnded ||
		!strings.Contains(env.Errors[0].Advice, "limit-for-sessions") {
		t.Errorf("request chat with the only chat server full = %+v", env)
	}
}

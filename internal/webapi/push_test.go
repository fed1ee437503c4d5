package webapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/webapi"
)

// receiver is a custom-http push endpoint: it records each notification,
// or answers 503 while down.
type receiver struct {
	t    *testing.T
	srv  *httptest.Server
	down atomic.Bool
	mu   sync.Mutex
	got  []pushed
}

// pushed is a custom-http notification as the receiver reads it.
type pushed struct {
	envelope
	DeviceID string `json:"deviceId"`
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var n pushed
		if err := json.NewDecoder(req.Body).Decode(&n); err != nil {
			t.Errorf("notification not JSON: %v", err)
		}
		r.mu.Lock()
		r.got = append(r.got, n)
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// messages returns every event notified, in order of arrival.
func (r *receiver) messages() []transcript.APIMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []transcript.APIMessage
	for _, n := range r.got {
		out = append(out, n.Messages...)
	}
	return out
}

// waitText waits until a message with text was notified.
func (r *receiver) waitText(text string) {
	r.t.Helper()
	eventually(r.t, "notification of "+text, func() bool {
		for _, m := range r.messages() {
			if m.Type == transcript.Message && m.Text == text {
				return true
			}
		}
		return false
	})
}

// check fails unless every notification is for chatID and device, and the
// events are in order, none twice.
func (r *receiver) check(chatID, device string) {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	last := 0
	for _, n := range r.got {
		if n.ChatID != chatID || n.DeviceID != device || n.StatusCode != 0 || n.SecureKey != "" {
			r.t.Errorf("notification %+v", n)
		}
		for _, m := range n.Messages {
			if m.Index <= last {
				r.t.Errorf("event %d notified after %d", m.Index, last)
			}
			last = m.Index
		}
	}
}

// withPush enables customhttp (and fcm) pushes to r, with no retries.
func withPush(r *receiver) func(*config.WebAPIOptions) {
	return func(o *config.WebAPIOptions) {
		o.Push.PushEnabled = "comet,customhttp,fcm"
		o.Push.CustomHTTPURL = r.srv.URL + "/notify"
		o.Push.CustomHTTPRetries = 0
	}
}

// pushTimeouts makes a client that is not pushed leave after 1 s, and asks
// the web API about a pushed one every 2 s; new chats may ask for push
// (flex-push-on-join, off by default as in Genesys).
func pushTimeouts(o *config.ChatServerOptions) {
	o.Settings.FlexDisconnectTimeout = time.Second
	o.Settings.FlexPushTimeout = 2 * time.Second
	o.Settings.FlexPushOnJoin = true
}

func pushForm(device, typ string) url.Values {
	return url.Values{"userData[push_notification_deviceid]": {device}, "userData[push_notification_type]": {typ}}
}

func clientLeft(m transcript.APIMessage) bool {
	return m.Type == transcript.ParticipantLeft && m.From != nil && m.From.Type == transcript.Client
}

// stays fails if the agent sees the client leave within d (longer than
// flex-disconnect-timeout).
func (a *agent) stays(d time.Duration) {
	a.t.Helper()
	if settle.Poll(d, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, m := range a.seen {
			if clientLeft(m) {
				return true
			}
		}
		return false
	}) {
		a.t.Fatal("the pushed client was removed")
	}
}

func TestPushCustomHTTP(t *testing.T) {
	r := newReceiver(t)
	cs := startChat(t, "chat-1", pushTimeouts)
	w := startWeb(t, withPush(r), cs)
	c := w.requestChat(pushForm("dev-1", "customhttp"))
	a := joinAgent(t, cs.addr, c.chatID)
	for _, text := range []string{"one", "two", "three"} {
		a.say(text, transcript.VisAll)
	}
	a.say("internal", transcript.VisInt)
	a.say("four", transcript.VisAll)
	r.waitText("four")
	// The client never polls: it outlives flex-disconnect-timeout, on
	// flex-push-timeout with every check confirmed.
	a.stays(2500 * time.Millisecond)
	a.say("five", transcript.VisAll)
	r.waitText("five")
	r.check(c.chatID, "dev-1")
	var texts []string
	for _, m := range r.messages() {
		if m.Visibility != transcript.VisAll && m.Visibility != "" {
			t.Errorf("event %d of visibility %s notified", m.Index, m.Visibility)
		}
		if m.Type == transcript.Message {
			texts = append(texts, m.Text)
		}
	}
	if got := strings.Join(texts, " "); got != "one two three four five" {
		t.Errorf("notified messages = %q", got)
	}
}

func TestPushCometDDisconnect(t *testing.T) {
	r := newReceiver(t)
	cs := startChat(t, "chat-1", pushTimeouts)
	w := startWeb(t, withPush(r), cs)
	c := dialComet(w, chatChannel)
	env := c.requestChatWith(map[string]any{"nickname": "Ann",
		"userData": map[string]any{"push_notification_deviceid": "dev-2", "push_notification_type": "customhttp"}})
	a := joinAgent(t, cs.addr, env.ChatID)
	a.say("while connected", transcript.VisAll)
	c.waitMessage("while connected", isText("while connected"))
	c.disconnect()

	// The web API keeps the subscription: the client outlives
	// flex-disconnect-timeout and its events go to the device.
	a.stays(2500 * time.Millisecond)
	a.say("in background", transcript.VisAll)
	r.waitText("in background")
	r.check(env.ChatID, "dev-2")
	for _, m := range r.messages() {
		if m.Type == transcript.Message && m.Text == "while connected" {
			t.Error("an event the CometD client had was notified again")
		}
	}

	// Once the device is unreachable, the next check is not confirmed.
	r.down.Store(true)
	a.say("lost", transcript.VisAll)
	left := a.waitFor("the client is removed", clientLeft)
	if code := left.EventAttributes.System["quit-reason-code"]; code != "3" {
		t.Errorf("client left with reason %q, want 3", code)
	}
}

func TestPushSurvivesWebAPIRestart(t *testing.T) {
	r := newReceiver(t)
	// The chat goes without a web API from the first one's stop to the
	// second one's connection; a busy machine (the whole suite under -race)
	// may take seconds over it, so the chat server asks about the pushed
	// client every 5 s here, and the check below spans one of those asks.
	cs := startChat(t, "chat-1", func(o *config.ChatServerOptions) {
		pushTimeouts(o)
		o.Settings.FlexPushTimeout = 5 * time.Second
	})
	opts := config.DefaultWebAPIOptions()
	withPush(r)(&opts)
	first, err := webapi.New(webapi.Config{Name: "gms-1", ChatServers: map[string]service.Endpoint{cs.name: {Name: cs.name, Addr: cs.addr}}, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ln := listen(t)
	go func() { done <- first.Serve(ctx, ln) }()
	w := &web{t: t, srv: first, base: "http://" + ln.Addr().String() + "/genesys/2/chat/customer-support"}
	eventually(t, "chat-1 selectable", func() bool { return first.Accepting(cs.name) })
	c := w.requestChat(pushForm("dev-3", "customhttp"))
	a := joinAgent(t, cs.addr, c.chatID)
	a.say("before", transcript.VisAll)
	r.waitText("before")
	stop()
	if err := <-done; err != nil {
		t.Fatalf("first web API: %v", err)
	}

	// A new web API holds nothing of the chat: the chat server hands it the
	// subscription, with what happened while no web API was there.
	a.say("between", transcript.VisAll)
	second := startWeb(t, withPush(r), cs)
	second.srv.Accepting(cs.name)
	a.say("after", transcript.VisAll)
	r.waitText("between")
	r.waitText("after")
	a.stays(5500 * time.Millisecond)
	r.check(c.chatID, "dev-3")
}

func TestPushBadInput(t *testing.T) {
	r := newReceiver(t)
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, func(o *config.WebAPIOptions) {
		withPush(r)(o)
		o.Push.PushEnabled = "comet,customhttp"
	}, cs)
	tests := []struct {
		name   string
		form   url.Values
		advice string
	}{
		{"unknown type", pushForm("dev", "apns"), `push_notification_type "apns" is not supported`},
		{"type not enabled", pushForm("dev", "ios"), `push_notification_type "ios" is not enabled`},
		{"no device id", url.Values{"userData[push_notification_type]": {"customhttp"}}, "push_notification_deviceid is required"},
		{"no type", url.Values{"userData[push_notification_deviceid]": {"dev"}}, "push_notification_type is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.form.Set("nickname", "Ann")
			_, env := w.post("", tt.form)
			if env.StatusCode != 2 || env.code() != 102 || env.ChatID != "" || !strings.Contains(env.Errors[0].Advice, tt.advice) {
				t.Errorf("envelope = %+v; want statusCode 2, code 102, advice %q", env, tt.advice)
			}
		})
	}
	t.Run("cometd", func(t *testing.T) {
		c := dialComet(w, chatChannel)
		c.publish(map[string]any{"operation": "requestChat", "nickname": "Ann",
			"userData": map[string]any{"push_notification_type": "apns", "push_notification_deviceid": "d"}})
		env := c.waitEnvelope("the error envelope", func(e envelope) bool { return len(e.Errors) > 0 })
		if env.StatusCode != 2 || env.code() != 102 {
			t.Errorf("envelope = %+v", env)
		}
	})
}

// TestFlexPushOnJoin: with flex-push-on-join off (the default) a chat
// requested with a device is created all the same, without a push
// subscription: nothing is notified, and the client, which does not poll, is
// removed after flex-disconnect-timeout. On, its events go to the device and
// it outlives flex-disconnect-timeout.
func TestFlexPushOnJoin(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprintf("flex-push-on-join=%v", on), func(t *testing.T) {
			r := newReceiver(t)
			cs := startChat(t, "chat-1", func(o *config.ChatServerOptions) {
				pushTimeouts(o)
				o.Settings.FlexDisconnectTimeout = 2 * time.Second // room to join the agent first
				o.Settings.FlexPushOnJoin = on
			})
			w := startWeb(t, withPush(r), cs)
			c := w.requestChat(pushForm("dev-j", "customhttp"))
			a := joinAgent(t, cs.addr, c.chatID)
			a.say("hello", transcript.VisAll)
			if on {
				r.waitText("hello")
				a.stays(3 * time.Second)
				r.check(c.chatID, "dev-j")
				return
			}
			left := a.waitFor("the client is removed", clientLeft)
			if code := left.EventAttributes.System["quit-reason-code"]; code != "3" {
				t.Errorf("client left with reason %q, want 3", code)
			}
			if got := r.messages(); len(got) != 0 {
				t.Errorf("notified without a push subscription: %+v", got)
			}
		})
	}
}

// TestPushAfterRestore: session-restore-push-send decides whether a chat
// restored on another chat server keeps its client's permanent push
// subscription. On, the device is notified of the restoration and of what
// follows, from the new server, and the client, which polls no more, stays
// on flex-push-timeout; off, nothing more is notified and the client is
// removed after flex-disconnect-timeout (reason 3).
func TestPushAfterRestore(t *testing.T) {
	for _, send := range []bool{false, true} {
		t.Run(fmt.Sprintf("session-restore-push-send=%v", send), func(t *testing.T) {
			r := newReceiver(t)
			cs := startSharedWith(t, func(o *config.ChatServerOptions) {
				pushTimeouts(o)
				o.Settings.FlexDisconnectTimeout = 2 * time.Second // room to rejoin the agent first
				o.Settings.SessionRestorePushSend = send
			}, "chat-1", "chat-2")
			w := startWeb(t, withPush(r), cs[0].chatServer, cs[1].chatServer)
			c := w.requestChat(pushForm("dev-r", "customhttp"))
			owner, other := cs[0], cs[1]
			if c.alias == other.name {
				owner, other = other, owner
			}
			a := joinAgent(t, owner.addr, c.chatID)
			a.say("before", transcript.VisAll)
			r.waitText("before")

			owner.kill()
			eventually(t, "the web API sees "+owner.name+" gone", func() bool { return !w.srv.Connected(owner.name) })
			// The app comes to the foreground once: its refresh restores the chat.
			if env := c.must("refresh", "transcriptPosition", "1"); env.Alias != other.name {
				t.Fatalf("alias after the restore = %q, want %q", env.Alias, other.name)
			}
			b := rejoinAgent(t, other.addr, a)
			b.say("after", transcript.VisAll)
			if !send {
				b.waitFor("the client is removed", clientLeft)
				for _, m := range r.messages() {
					if m.Text == "after" || m.Type == transcript.ParticipantLeft {
						t.Errorf("event %d (%s %q) notified after the restore", m.Index, m.Type, m.Text)
					}
				}
				return
			}
			r.waitText("after")
			b.stays(3 * time.Second)
			r.check(c.chatID, "dev-r")
			restored := 0
			for _, m := range r.messages() {
				if m.Type == transcript.ParticipantLeft && m.EventAttributes.System["quit-reason-code"] == "8" {
					restored++
				}
			}
			if restored != 2 {
				t.Errorf("%d restoration leaves notified, want 2 (client and agent)", restored)
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			if last := r.got[len(r.got)-1]; last.Alias != other.name {
				t.Errorf("notification alias = %q, want %q", last.Alias, other.name)
			}
		})
	}
}

// TestPushCometDAfterRestore: a CometD client with a permanent push
// subscription whose chat is restored elsewhere keeps its events: the
// subscription the new server resumes does not take them to the device
// while the client is connected, and the device takes over when it goes.
func TestPushCometDAfterRestore(t *testing.T) {
	r := newReceiver(t)
	cs := startSharedWith(t, func(o *config.ChatServerOptions) {
		pushTimeouts(o)
		o.Settings.SessionRestorePushSend = true
	}, "chat-1", "chat-2")
	w := startWeb(t, withPush(r), cs[0].chatServer, cs[1].chatServer)
	c := dialComet(w, chatChannel)
	env := c.requestChatWith(map[string]any{"nickname": "Ann",
		"userData": map[string]any{"push_notification_deviceid": "dev-c", "push_notification_type": "customhttp"}})
	owner, other := cs[0], cs[1]
	if env.Alias == other.name {
		owner, other = other, owner
	}
	a := joinAgent(t, owner.addr, env.ChatID)
	a.say("before", transcript.VisAll)
	c.waitMessage("before", isText("before"))

	owner.kill()
	c.waitEnvelope("the restoration events", func(e envelope) bool { return e.Alias == other.name && len(e.Messages) > 0 })
	b := rejoinAgent(t, other.addr, a)
	b.say("after", transcript.VisAll)
	c.waitMessage("after", isText("after"))
	c.disconnect()
	b.say("in background", transcript.VisAll)
	r.waitText("in background")
	r.check(env.ChatID, "dev-c")
	for _, m := range r.messages() {
		if m.Type == transcript.ParticipantLeft || m.Text == "before" || m.Text == "after" {
			t.Errorf("event %d (%s %q), which the CometD client had, notified", m.Index, m.Type, m.Text)
		}
	}
}

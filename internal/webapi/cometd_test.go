package webapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

const chatChannel = "/service/chatV2/customer-support"

// cometClient is a small long-polling Bayeux client: it handshakes, keeps
// one /meta/connect in flight on its own goroutine, and collects what is
// delivered on its chatV2 channel.
type cometClient struct {
	t       testing.TB
	url     string
	channel string
	id      string
	n       atomic.Int64
	cancel  context.CancelFunc
	done    chan struct{}

	mu       sync.Mutex // guards the fields below
	got      []delivered
	connects []time.Time // when each /meta/connect was sent
}

// delivered is one envelope and the index of the connect that brought it.
type delivered struct {
	env     envelope
	connect int
}

// bxReply is a Bayeux reply or delivery as the test reads it.
type bxReply struct {
	Channel    string          `json:"channel"`
	Successful *bool           `json:"successful"`
	ClientID   string          `json:"clientId"`
	Error      string          `json:"error"`
	Data       json.RawMessage `json:"data"`
}

// dialComet handshakes with the web API w and subscribes to channel.
func dialComet(w *web, channel string) *cometClient {
	w.t.Helper()
	base := strings.TrimSuffix(w.base, "/2/chat/customer-support") + "/cometd"
	ctx, cancel := context.WithCancel(context.Background())
	c := &cometClient{t: w.t, url: base, channel: channel, cancel: cancel, done: make(chan struct{})}
	hs := c.must(map[string]any{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": []string{"long-polling"}})
	c.id = hs.ClientID
	c.must(map[string]any{"channel": "/meta/subscribe", "subscription": channel})
	go c.connectLoop(ctx)
	w.t.Cleanup(c.stop)
	return c
}

// post sends one message and returns every reply and delivery.
func (c *cometClient) post(ctx context.Context, m map[string]any) ([]bxReply, error) {
	m["id"] = strconv.FormatInt(c.n.Add(1), 10)
	if c.id != "" {
		m["clientId"] = c.id
	}
	body, _ := json.Marshal([]any{m})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out []bxReply
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
	}
	return out, nil
}

// must sends m and returns its successful reply.
func (c *cometClient) must(m map[string]any) bxReply {
	c.t.Helper()
	r := c.send(m)
	if r.Successful == nil || !*r.Successful {
		c.t.Fatalf("%v: %+v", m["channel"], r)
	}
	return r
}

// send sends m and returns its reply (the one on m's channel).
func (c *cometClient) send(m map[string]any) bxReply {
	c.t.Helper()
	ch := m["channel"]
	out, err := c.post(context.Background(), m)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, r := range out {
		if r.Channel == ch && r.Successful != nil {
			return r
		}
	}
	c.t.Fatalf("no reply on %v in %+v", ch, out)
	return bxReply{}
}

// publish publishes data on the client's channel and returns the ack.
func (c *cometClient) publish(data map[string]any) bxReply {
	c.t.Helper()
	return c.send(map[string]any{"channel": c.channel, "data": data})
}

// connectLoop keeps a /meta/connect in flight until ctx ends or the server
// says to stop.
func (c *cometClient) connectLoop(ctx context.Context) {
	defer close(c.done)
	for ctx.Err() == nil {
		c.mu.Lock()
		n := len(c.connects)
		c.connects = append(c.connects, time.Now())
		c.mu.Unlock()
		out, err := c.post(ctx, map[string]any{"channel": "/meta/connect", "connectionType": "long-polling"})
		if err != nil {
			return
		}
		for _, r := range out {
			if r.Channel == "/meta/connect" && (r.Successful == nil || !*r.Successful) {
				return
			}
			if !strings.HasPrefix(r.Channel, "/meta/") && len(r.Data) > 0 {
				var env envelope
				if json.Unmarshal(r.Data, &env) == nil {
					c.mu.Lock()
					c.got = append(c.got, delivered{env: env, connect: n})
					c.mu.Unlock()
				}
			}
		}
	}
}

// stop ends the connect loop without telling the server.
func (c *cometClient) stop() {
	c.cancel()
	<-c.done
}

// disconnect sends /meta/disconnect and ends the loop.
func (c *cometClient) disconnect() {
	c.t.Helper()
	c.must(map[string]any{"channel": "/meta/disconnect"})
	c.stop()
}

func (c *cometClient) deliveries() []delivered {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]delivered(nil), c.got...)
}

// messages returns every event delivered, in order.
func (c *cometClient) messages() []transcript.APIMessage {
	var out []transcript.APIMessage
	for _, d := range c.deliveries() {
		out = append(out, d.env.Messages...)
	}
	return out
}

// waitEnvelope waits for a delivered envelope matching ok.
func (c *cometClient) waitEnvelope(what string, ok func(envelope) bool) envelope {
	c.t.Helper()
	var found envelope
	eventually(c.t, what, func() bool {
		for _, d := range c.deliveries() {
			if ok(d.env) {
				found = d.env
				return true
			}
		}
		return false
	})
	return found
}

// waitMessage waits for a delivered event matching ok.
func (c *cometClient) waitMessage(what string, ok func(transcript.APIMessage) bool) {
	c.t.Helper()
	eventually(c.t, what, func() bool {
		for _, m := range c.messages() {
			if ok(m) {
				return true
			}
		}
		return false
	})
}

// cometChat is a chat requested over CometD.
type cometChat struct {
	chatID, userID, key, alias string
}

// requestChat publishes requestChat and waits for its reply.
func (c *cometClient) requestChat() cometChat {
	c.t.Helper()
	env := c.requestChatWith(map[string]any{"firstName": "Ann", "lastName": "Lee",
		"subject": "Order 42", "emailAddress": "ann@example.com", "userData": map[string]any{"Order": "42", "Tier": 2}})
	if env.ChatID == "" || env.UserID == "" || env.Alias == "" {
		c.t.Fatalf("requestChat = %+v", env)
	}
	return cometChat{chatID: env.ChatID, userID: env.UserID, key: env.SecureKey, alias: env.Alias}
}

// requestChatWith publishes requestChat with the fields of data and returns
// its reply, failing the test unless the chat was granted.
func (c *cometClient) requestChatWith(data map[string]any) envelope {
	c.t.Helper()
	data["operation"] = "requestChat"
	c.publish(data)
	env := c.waitEnvelope("requestChat reply", func(e envelope) bool { return e.SecureKey != "" || len(e.Errors) > 0 })
	if env.StatusCode != 0 {
		c.t.Fatalf("requestChat = %+v", env)
	}
	return env
}

// op publishes an operation of chat ch with the party fields.
func (c *cometClient) op(ch cometChat, operation string, kv ...any) bxReply {
	c.t.Helper()
	data := map[string]any{"operation": operation, "chatId": ch.chatID, "userId": ch.userID, "secureKey": ch.key, "alias": ch.alias}
	for i := 0; i+1 < len(kv); i += 2 {
		data[kv[i].(string)] = kv[i+1]
	}
	return c.publish(data)
}

// checkSequence fails unless msgs are the events from 1 on, once each, in
// order, but for the positions in skip, which must be absent.
func checkSequence(t *testing.T, msgs []transcript.APIMessage, skip ...int) {
	t.Helper()
	next := 1
	for _, m := range msgs {
		for slices.Contains(skip, next) {
			next++
		}
		if m.Index != next {
			t.Fatalf("event %d (%s) delivered where %d was due; all: %s", m.Index, m.Type, next, summary(msgs))
		}
		next++
	}
}

func summary(msgs []transcript.APIMessage) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "%d:%s:%s ", m.Index, m.Type, m.Text)
	}
	return b.String()
}

func isText(text string) func(transcript.APIMessage) bool {
	return func(m transcript.APIMessage) bool { return m.Type == transcript.Message && m.Text == text }
}

// pushOnly sets flex-disconnect-timeout short and flex-push-timeout long:
// a client stays in the chat only while the web API keeps it subscribed.
func pushOnly(o *config.ChatServerOptions) {
	o.Settings.FlexDisconnectTimeout = time.Second
	o.Settings.FlexPushTimeout = 10 * time.Minute
}

func TestCometDOperations(t *testing.T) {
	cs := startChat(t, "chat-1", pushOnly)
	w := startWeb(t, nil, cs)
	c := dialComet(w, chatChannel)
	ch := c.requestChat()
	a := joinAgent(t, cs.addr, ch.chatID)
	c.waitMessage("the agent's join", func(m transcript.APIMessage) bool {
		return m.Type == transcript.ParticipantJoined && m.From != nil && m.From.Nickname == "Bob"
	})

	// Push without poll: the agent's message completes a connect that was
	// already held when it was sent.
	eventually(t, "a held connect", func() bool { return c.heldSince(200 * time.Millisecond) })
	said := time.Now()
	a.say("hello Ann", transcript.VisAll)
	a.say("internal note", transcript.VisInt)
	c.waitMessage("the agent's message", isText("hello Ann"))
	c.checkPushedDuring("hello Ann", said)

	ops := []struct {
		op   string
		kv   []any
		seen func(transcript.APIMessage) bool
	}{
		{"sendMessage", []any{"message", "thanks", "messageType", "text"}, isText("thanks")},
		{"startTyping", []any{"message", "th"}, func(m transcript.APIMessage) bool { return m.Type == transcript.TypingStarted }},
		{"stopTyping", nil, func(m transcript.APIMessage) bool { return m.Type == transcript.TypingStopped }},
		{"pushUrl", []any{"pushUrl", "https://example.com/42"}, func(m transcript.APIMessage) bool {
			return m.Type == transcript.PushURL && m.Text == "https://example.com/42"
		}},
		{"customNotice", []any{"message", "hi"}, func(m transcript.APIMessage) bool { return m.Type == transcript.CustomNotice }},
		{"updateNickname", []any{"nickname", "Annie"}, func(m transcript.APIMessage) bool { return m.Type == transcript.NicknameUpdated && m.Text == "Annie" }},
	}
	for _, o := range ops {
		if r := c.op(ch, o.op, o.kv...); !*r.Successful {
			t.Fatalf("%s ack: %+v", o.op, r)
		}
		a.waitFor("the agent sees "+o.op, o.seen)
		c.waitMessage("the client sees "+o.op, o.seen)
	}
	before := len(c.deliveries())
	c.op(ch, "updateData", "userData", map[string]any{"Priority": "high"})
	eventually(t, "the updateData reply", func() bool { return len(c.deliveries()) > before })
	if env := c.deliveries()[before].env; env.StatusCode != 0 || len(env.Messages) != 0 {
		t.Errorf("updateData reply = %+v", env)
	}

	checkSequence(t, c.messages(), 4) // 4 is the INT note: never delivered
	before = len(c.deliveries())
	c.op(ch, "disconnect")
	eventually(t, "the disconnect reply", func() bool { return len(c.deliveries()) > before })
	if env := c.deliveries()[before].env; env.StatusCode != 0 {
		t.Errorf("disconnect reply = %+v", env)
	}
	a.waitFor("the client leaves", func(m transcript.APIMessage) bool {
		return m.Type == transcript.ParticipantLeft && m.From != nil && m.From.Type == transcript.Client
	})
	if env := c.op(ch, "sendMessage", "message", "too late"); !*env.Successful {
		t.Errorf("a chat API error must not fail the publish: %+v", env)
	}
	c.waitEnvelope("8209 after disconnect", func(e envelope) bool { return e.code() == 8209 && e.ChatEnded })
}

// heldSince reports whether the last connect has been in flight for d.
func (c *cometClient) heldSince(d time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.connects)
	return n > 1 && time.Since(c.connects[n-1]) >= d
}

// checkPushedDuring checks that the message with text came in the reply
// of a connect sent before at.
func (c *cometClient) checkPushedDuring(text string, at time.Time) {
	c.t.Helper()
	for _, d := range c.deliveries() {
		for _, m := range d.env.Messages {
			if m.Text == text {
				c.mu.Lock()
				sent := c.connects[d.connect]
				c.mu.Unlock()
				if !sent.Before(at) {
					c.t.Errorf("%q came with a connect sent after it was said: a poll, not a push", text)
				}
				return
			}
		}
	}
}

func TestCometDResume(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, nil, cs)
	first := dialComet(w, chatChannel)
	ch := first.requestChat()
	a := joinAgent(t, cs.addr, ch.chatID)
	a.say("one", transcript.VisAll)
	first.waitMessage("one", isText("one"))
	seen := first.messages()
	last := first.deliveries()
	pos := last[len(last)-1].env.NextPosition
	first.disconnect()

	a.say("two", transcript.VisAll)
	a.say("three", transcript.VisAll)
	second := dialComet(w, chatChannel)
	// requestNotifications without chatId: the web API knows the party only
	// while it holds its subscription, dropped at the disconnect above.
	second.publish(map[string]any{"operation": "requestNotifications", "userId": ch.userID, "secureKey": ch.key, "alias": ch.alias, "transcriptPosition": pos})
	second.waitEnvelope("chatId required", func(e envelope) bool { return e.code() == 102 })
	second.op(ch, "requestNotifications", "transcriptPosition", strconv.Itoa(pos))
	second.waitMessage("three", isText("three"))
	a.say("four", transcript.VisAll)
	second.waitMessage("four", isText("four"))
	checkSequence(t, append(seen, second.messages()...))

	// The wrong key reveals nothing, and the party is removed (reason 6).
	third := dialComet(w, chatChannel)
	bad := ch
	bad.key = "wrong"
	third.op(bad, "requestNotifications", "transcriptPosition", 1)
	env := third.waitEnvelope("8210", func(e envelope) bool { return len(e.Errors) > 0 })
	if env.code() != 8210 || !env.ChatEnded || len(env.Messages) != 0 || len(third.messages()) != 0 {
		t.Errorf("wrong key = %+v", env)
	}
}

func TestCometDBadInput(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, func(o *config.WebAPIOptions) { o.Endpoints = map[string]string{"customer-support": "support"} }, cs)
	c := dialComet(w, chatChannel)
	cases := []struct {
		name    string
		channel string
		data    any
	}{
		{"unknown operation", chatChannel, map[string]any{"operation": "fly"}},
		{"no operation", chatChannel, map[string]any{"nickname": "Ann"}},
		{"data not an object", chatChannel, []int{1, 2}},
		{"userData not an object", chatChannel, map[string]any{"operation": "requestChat", "nickname": "Ann", "userData": "x"}},
		{"userData nested", chatChannel, map[string]any{"operation": "requestChat", "nickname": "Ann", "userData": map[string]any{"a": []int{1}}}},
		{"bad position", chatChannel, map[string]any{"operation": "requestNotifications", "chatId": "x", "userId": "y", "secureKey": "z", "alias": "chat-1", "transcriptPosition": -1}},
		{"no party", chatChannel, map[string]any{"operation": "sendMessage", "message": "hi"}},
		{"no name", chatChannel, map[string]any{"operation": "requestChat", "subject": "x"}},
		{"unknown service", "/service/chatV2/other", map[string]any{"operation": "requestChat", "nickname": "Ann"}},
		{"service path", "/service/chatV2/customer-support/x", map[string]any{"operation": "requestChat", "nickname": "Ann"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(c.deliveries())
			r := c.send(map[string]any{"channel": tc.channel, "data": tc.data})
			if *r.Successful || !strings.HasPrefix(r.Error, "400:") {
				t.Errorf("ack = %+v, want a 400", r)
			}
			eventually(t, "the error envelope", func() bool { return len(c.deliveries()) > before })
			env := c.deliveries()[before].env
			if env.StatusCode != 2 || env.code() != 102 || len(env.Messages) != 0 {
				t.Errorf("envelope = %+v", env)
			}
		})
	}
}

func TestCometDCloseUnsubscribes(t *testing.T) {
	cs := startChat(t, "chat-1", pushOnly)
	w := startWeb(t, func(o *config.WebAPIOptions) { o.CometD.MaxInterval = time.Second }, cs)
	for _, how := range []string{"disconnect", "expiry"} {
		t.Run(how, func(t *testing.T) {
			c := dialComet(w, chatChannel)
			ch := c.requestChat()
			a := joinAgent(t, cs.addr, ch.chatID)
			// Subscribed, the client outlives flex-disconnect-timeout (1 s).
			a.say("ping", transcript.VisAll)
			c.waitMessage("ping", isText("ping"))
			eventually(t, "a held connect", func() bool { return c.heldSince(1500 * time.Millisecond) })
			a.say("still there", transcript.VisAll)
			c.waitMessage("still there", isText("still there"))
			if how == "disconnect" {
				c.disconnect()
			} else {
				c.stop()
			}
			// Unsubscribed, flex-disconnect-timeout applies again.
			left := a.waitFor("the client is removed", func(m transcript.APIMessage) bool {
				return m.Type == transcript.ParticipantLeft && m.From != nil && m.From.Type == transcript.Client
			})
			if c := left.EventAttributes.System["quit-reason-code"]; c != "3" {
				t.Errorf("client left with reason %q, want 3", c)
			}
		})
	}
}

func TestCometDFailover(t *testing.T) {
	cs := startShared(t, "chat-1", "chat-2")
	w := startWeb(t, nil, cs[0].chatServer, cs[1].chatServer)
	c := dialComet(w, chatChannel)
	ch := c.requestChat()
	owner, other := cs[0], cs[1]
	if ch.alias == "chat-2" {
		owner, other = cs[1], cs[0]
	}
	a := joinAgent(t, owner.addr, ch.chatID)
	a.say("before the crash", transcript.VisAll)
	c.waitMessage("before", isText("before the crash"))

	owner.kill()
	// The client sends nothing: the web API restores the chat on its own
	// and moves the push subscription.
	env := c.waitEnvelope("the restoration events", func(e envelope) bool { return e.Alias == other.name && len(e.Messages) > 0 })
	reasons := 0
	for _, m := range env.Messages {
		if m.Type == transcript.ParticipantLeft && m.EventAttributes.System["quit-reason-code"] == "8" {
			reasons++
		}
	}
	if reasons != 2 {
		t.Errorf("restoration events %s, want two leaves with reason 8", summary(env.Messages))
	}
	b := rejoinAgent(t, other.addr, a)
	b.say("after the crash", transcript.VisAll)
	c.waitMessage("after", isText("after the crash"))
	ch.alias = other.name
	c.op(ch, "sendMessage", "message", "thanks")
	c.waitMessage("thanks", isText("thanks"))
	checkSequence(t, c.messages())
}

// rejoinAgent joins agent party userID again, on the chat server a chat was
// restored on; the agent records what is pushed to it from then on.
func rejoinAgent(t *testing.T, addr string, old *agent) *agent {
	t.Helper()
	conn, err := wire.Dial(context.Background(), "ws://"+addr+chatserver.BasicPath, wire.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := &agent{t: t, conn: conn, sessionID: old.sessionID, userID: old.userID, key: old.key}
	serve(t, func(ctx context.Context) error {
		conn.Serve(ctx, wire.HandlerFunc(a.record))
		return nil
	})
	a.request(wire.RequestJoin, map[string]any{"sessionId": a.sessionID, "userId": a.userID, "secureKey": a.key, "transcriptPosition": 1}, nil)
	return a
}

func TestWidgetServed(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, nil, cs)
	root := strings.TrimSuffix(w.base, "/genesys/2/chat/customer-support")
	cases := []struct {
		method, path string
		code         int
		ctype, body  string
	}{
		{"GET", "/widget/", 200, "text/html; charset=utf-8", `<script type="module" src="widget.js">`},
		{"GET", "/widget/widget.js", 200, "text/javascript; charset=utf-8", `from "./bayeux.js"`},
		{"GET", "/widget/widget.css", 200, "text/css; charset=utf-8", "--accent"},
		{"GET", "/widget/bayeux.js", 200, "text/javascript; charset=utf-8", "export class Bayeux"},
		{"HEAD", "/widget/widget.js", 200, "text/javascript; charset=utf-8", ""},
		{"GET", "/widget/cometd/", 404, "", ""},
		{"GET", "/widget/nothing.js", 404, "", ""},
		{"POST", "/widget/", 405, "", ""},
	}
	for _, tc := range cases {
		req, err := http.NewRequest(tc.method, root+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s %s: HTTP %d, want %d", tc.method, tc.path, resp.StatusCode, tc.code)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); tc.ctype != "" && ct != tc.ctype {
			t.Errorf("%s %s: Content-Type %q, want %q", tc.method, tc.path, ct, tc.ctype)
		}
		if !strings.Contains(b.String(), tc.body) {
			t.Errorf("%s %s: body lacks %q", tc.method, tc.path, tc.body)
		}
	}
}

// TestCometDResumeOnSecondWebAPI: a CometD client whose web API went away
// (it stops without a word) resumes on another web API with
// requestNotifications from its last nextPosition: nothing is lost or
// delivered twice, and pushes go on there.
func TestCometDResumeOnSecondWebAPI(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w1, w2 := startWeb(t, nil, cs), startWeb(t, nil, cs)
	first := dialComet(w1, chatChannel)
	ch := first.requestChat()
	a := joinAgent(t, cs.addr, ch.chatID)
	a.say("one", transcript.VisAll)
	first.waitMessage("one", isText("one"))
	first.stop()
	seen := first.messages()
	got := first.deliveries()
	pos := got[len(got)-1].env.NextPosition

	a.say("two", transcript.VisAll)
	a.say("three", transcript.VisAll)
	second := dialComet(w2, chatChannel)
	second.op(ch, "requestNotifications", "transcriptPosition", pos)
	second.waitMessage("three", isText("three"))
	a.say("four", transcript.VisAll)
	second.waitMessage("four, pushed through the second web API", isText("four"))
	checkSequence(t, append(seen, second.messages()...))
}

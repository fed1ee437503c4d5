package chatserver_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// extendBy sets session-restore-extend-by to v, with the options it needs.
func extendBy(v string) func(*config.ChatServerOptions) {
	return func(o *config.ChatServerOptions) {
		o.Settings.SessionRestoreExtendBy = v
		o.Settings.SessionRestorePushSend, o.Settings.FlexPushOnJoin = true, true
	}
}

// espAnswer is the part of Event3rdServerResponse the tests read.
type espAnswer struct {
	AppName    string                  `json:"appName"`
	Method     string                  `json:"method"`
	Parameters map[string]string       `json:"parameters"`
	Messages   []transcript.APIMessage `json:"messages"`
}

// esp sends Request3rdServer for method of the Chat service (or service,
// when given) on session id over p, the ESP side.
func esp(p *peer, id, method string, params map[string]string, service ...string) (espAnswer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	svc := chatserver.ESPService
	if len(service) > 0 {
		svc = service[0]
	}
	var a espAnswer
	_, err := p.conn.Request(ctx, wire.Request3rdServer, map[string]any{"interactionId": id, "service": svc, "method": method, "parameters": params}, &a)
	return a, err
}

func mustESP(t *testing.T, p *peer, id, method string, params map[string]string) espAnswer {
	t.Helper()
	a, err := esp(p, id, method, params)
	if err != nil {
		t.Fatalf("ESP %s: %v", method, err)
	}
	return a
}

// TestESPMethods: a workflow speaks in a chat as the system and as a bot it
// added, reads the transcript, removes the bot and closes the chat; the
// customer and the agent see it all.
func TestESPMethods(t *testing.T) {
	h := start(t, defaultOptions(t), nil)
	c, agent, _ := chatOn(t, h)
	c.must(wire.RequestSubscribe, c.ref(nil))
	p := h.dial(chatserver.ESPPath)

	sys := mustESP(t, p, c.sessionID, "Message", map[string]string{"MessageText": "Please hold on."})
	if sys.AppName != h.name || sys.Parameters["UserId"] == "" || sys.Parameters["ChatServerApplication"] != h.name {
		t.Errorf("Message answered %+v", sys)
	}
	again := mustESP(t, p, c.sessionID, "Notice", map[string]string{"NoticeType": "USER_PUSHED_URL", "NoticeText": "https://example.com/faq"})
	if again.Parameters["UserId"] != sys.Parameters["UserId"] {
		t.Error("a second request of the system party joined another one")
	}
	bot := mustESP(t, p, c.sessionID, "Join", map[string]string{"Nickname": "HelpBot", "Visibility": "INT"}).Parameters["UserId"]
	mustESP(t, p, c.sessionID, "Message", map[string]string{"UserId": bot, "MessageText": "for agents only"})
	c.waitPush("the system's message", func(m transcript.APIMessage, _ status) bool {
		return m.Text == "Please hold on." && m.From != nil && m.From.Nickname == "system" && m.From.Type == transcript.External
	})
	c.waitPush("the pushed URL", func(m transcript.APIMessage, _ status) bool { return m.Type == transcript.PushURL })
	agent.waitPush("the bot's message", func(m transcript.APIMessage, _ status) bool { return m.Text == "for agents only" })
	for _, m := range c.pushed() {
		if m.Text == "for agents only" {
			t.Error("the customer saw the bot's INT message")
		}
	}

	tr := mustESP(t, p, c.sessionID, "Transcript", map[string]string{"FromPosition": "2"})
	if len(tr.Messages) == 0 || tr.Messages[0].Index != 2 || tr.Parameters["NextPosition"] == "" {
		t.Errorf("Transcript from 2 answered %+v", tr)
	}
	mustESP(t, p, c.sessionID, "Leave", map[string]string{"UserId": bot})
	if _, err := esp(p, c.sessionID, "Message", map[string]string{"UserId": bot, "MessageText": "gone"}); wireCode(err) != wire.CodeLoggedOut {
		t.Errorf("a bot that left speaks: %v, want %d", err, wire.CodeLoggedOut)
	}
	mustESP(t, p, c.sessionID, "Close", nil)
	c.waitPush("the chat's end", func(_ transcript.APIMessage, st status) bool { return st.ChatEnded })
}

// TestESPBadInput: each malformed or forbidden ESP request gets its code and
// changes nothing.
func TestESPBadInput(t *testing.T) {
	h := start(t, defaultOptions(t), nil)
	c, _, joined := chatOn(t, h)
	p := h.dial(chatserver.ESPPath)
	for _, tt := range []struct {
		name    string
		id      string
		method  string
		params  map[string]string
		service string
		want    wire.Code
	}{
		{"unknown session", "NOPE", "Message", map[string]string{"MessageText": "x"}, "", wire.CodeNoSuchSession},
		{"other service", c.sessionID, "Message", map[string]string{"MessageText": "x"}, "Mail", wire.CodeBadRequest},
		{"unknown method", c.sessionID, "Dance", nil, "", wire.CodeBadRequest},
		{"no text", c.sessionID, "Message", nil, "", wire.CodeBadRequest},
		{"bad notice", c.sessionID, "Notice", map[string]string{"NoticeType": "TYPING_STARTED"}, "", wire.CodeBadRequest},
		{"bad position", c.sessionID, "Transcript", map[string]string{"FromPosition": "zero"}, "", wire.CodeBadRequest},
		{"as the customer", c.sessionID, "Message", map[string]string{"UserId": c.userID, "MessageText": "x"}, "", wire.CodeNotAllowed},
		{"as the agent", c.sessionID, "Leave", map[string]string{"UserId": joined.UserID}, "", wire.CodeNotAllowed},
		{"restore off", c.sessionID, "Restore", nil, "", wire.CodeNotAllowed},
	} {
		_, err := esp(p, tt.id, tt.method, tt.params, cmpOr(tt.service, chatserver.ESPService))
		if wireCode(err) != tt.want {
			t.Errorf("%s: %v, want code %d", tt.name, err, tt.want)
		}
	}
	if _, err := p.do(wire.RequestMessage, c.ref(map[string]any{"text": "x"})); wireCode(err) != wire.CodeNotAllowed {
		t.Errorf("a chat request on the ESP side: %v, want %d", err, wire.CodeNotAllowed)
	}
	if a := mustESP(t, p, "NOT-HERE", "Purge", nil); a.Parameters["Purged"] != "false" {
		t.Errorf("Purge of a chat not here answered %+v", a)
	}
	for _, m := range c.must(wire.RequestRefresh, c.ref(map[string]any{"transcriptPosition": 1})).Messages {
		if m.Type == transcript.Message && m.Text == "x" {
			t.Error("a refused request changed the chat")
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestESPRestore (session-restore-extend-by = esp): a workflow has the chat
// of a dead chat server restored on a live one, without the customer.
func TestESPRestore(t *testing.T) {
	hs := clusterWith(t, 2, extendBy("esp"))
	a, b := hs[0], hs[1]
	c, _, _ := chatOn(t, a)
	a.crash()
	p := b.dial(chatserver.ESPPath)
	r := mustESP(t, p, c.sessionID, "Restore", nil)
	if r.Parameters["Restored"] != "true" || r.Parameters["ChatServerApplication"] != "chat-2" {
		t.Fatalf("Restore answered %+v", r)
	}
	mustESP(t, p, c.sessionID, "Message", map[string]string{"MessageText": "restored by the workflow"})
	st, err := restoreOn(b, c, "chat-1", 1)
	if err != nil || st.Alias != "chat-2" {
		t.Fatalf("the customer's restore after the workflow's: %+v %v", st, err)
	}
	if agent := b.dial(chatserver.BasicPath); wireCode(agent.doErr(wire.RequestRestore, c.ref(nil))) != wire.CodeNotAllowed {
		t.Error("an agent restored a chat on a server that extends restorations to ESP only")
	}
}

// TestAgentRestore (session-restore-extend-by = agent): the agent of a chat
// whose chat server died has it restored on a live one while the customer
// is silent, rejoined as its own party; a wrong key or a customer's
// credentials restore nothing.
func TestAgentRestore(t *testing.T) {
	hs := clusterWith(t, 2, extendBy("agent"))
	a, b := hs[0], hs[1]
	c, _, joined := chatOn(t, a)
	a.crash()
	agent := b.dial(chatserver.BasicPath)
	ref := map[string]any{"sessionId": c.sessionID, "userId": joined.UserID, "secureKey": "wrong", "from": "chat-1"}
	if err := agent.doErr(wire.RequestRestore, ref); wireCode(err) != wire.CodeBadSecureKey {
		t.Errorf("restore with a wrong key: %v, want %d", err, wire.CodeBadSecureKey)
	}
	if err := agent.doErr(wire.RequestRestore, c.ref(map[string]any{"from": "chat-1"})); wireCode(err) != wire.CodeBadSecureKey {
		t.Errorf("restore with the customer's credentials on the agent side: %v, want %d", err, wire.CodeBadSecureKey)
	}
	ref["secureKey"] = joined.SecureKey
	setAccepting(t, b, false) // a draining server takes no chat, restored or new
	if err := agent.doErr(wire.RequestRestore, ref); wireCode(err) != wire.CodeUnavailable {
		t.Errorf("restore on a disabled server: %v, want %d", err, wire.CodeUnavailable)
	}
	setAccepting(t, b, true)
	st := agent.must(wire.RequestRestore, ref)
	if st.Alias != "chat-2" || st.UserID != joined.UserID {
		t.Fatalf("agent restore answered %+v", st)
	}
	agent.must(wire.RequestMessage, map[string]any{"sessionId": c.sessionID, "userId": joined.UserID, "text": "back for you"})
	back, err := restoreOn(b, c, "chat-1", 1)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range back.Messages {
		found = found || m.Text == "back for you"
	}
	if !found || back.Alias != "chat-2" {
		t.Errorf("the customer coming back got %+v", back)
	}
	if k := b.srv.KPI(); k["session_restored"] != 1 {
		t.Errorf("session_restored = %d, want 1", k["session_restored"])
	}
}

// TestAgentRestoreOff: with session-restore-extend-by = none (the default)
// an agent's restore is refused and nothing is restored.
func TestAgentRestoreOff(t *testing.T) {
	hs := cluster(t, 2, false)
	c, _, joined := chatOn(t, hs[0])
	hs[0].crash()
	agent := hs[1].dial(chatserver.BasicPath)
	err := agent.doErr(wire.RequestRestore, map[string]any{"sessionId": c.sessionID, "userId": joined.UserID, "secureKey": joined.SecureKey})
	if wireCode(err) != wire.CodeNotAllowed {
		t.Errorf("agent restore with extend-by none: %v, want %d", err, wire.CodeNotAllowed)
	}
	if k := hs[1].srv.KPI(); k["session_restored"] != 0 {
		t.Errorf("session_restored = %d, want 0", k["session_restored"])
	}
}

// doErr is do returning only the error.
func (p *peer) doErr(name string, body any) error {
	p.t.Helper()
	_, err := p.do(name, body)
	return err
}

// setAccepting disables or enables h, as an operator does.
func setAccepting(t *testing.T, h *harness, on bool) {
	t.Helper()
	path := "/admin/disable"
	if on {
		path = "/admin/enable"
	}
	resp, err := http.Post("http://"+h.addr+path, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

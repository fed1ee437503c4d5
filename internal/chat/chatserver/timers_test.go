package chatserver_test

import (
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// clock is a manual clock for a chat server's timers.
type clock struct {
	mu  sync.Mutex
	now time.Time
	srv *chatserver.Server
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// advance moves the clock and lets the server's timer loop see it.
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	c.srv.FireTimers()
}

func startTimed(t *testing.T, edit func(o *config.ChatServerOptions)) (*harness, *clock) {
	t.Helper()
	opts := defaultOptions(t)
	if edit != nil {
		edit(&opts)
	}
	c := &clock{now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	h := startClock(t, opts, nil, c.Now)
	c.srv = h.srv
	return h, c
}

func leftWith(reason string) func(transcript.APIMessage, status) bool {
	return func(m transcript.APIMessage, _ status) bool {
		return m.Type == transcript.ParticipantLeft && m.EventAttributes.System["quit-reason-code"] == reason
	}
}

func TestClientThatStopsPollingIsRemoved(t *testing.T) {
	h, clk := startTimed(t, nil)
	c := h.login(h.dial(chatserver.FlexPath))
	agent := h.dial(chatserver.BasicPath)
	h.joinAgent(agent, c.sessionID, nil)
	clk.advance(40 * time.Second)
	c.must(wire.RequestRefresh, c.ref(nil)) // still polling
	clk.advance(40 * time.Second)
	clk.advance(6 * time.Second)
	got := agent.waitPush("client removed with reason 3", leftWith("3"))
	if got.From.Type != transcript.Client {
		t.Errorf("removed party = %+v", got.From)
	}
}

func TestSubscribedClientIsCheckedNotTimedOut(t *testing.T) {
	h, clk := startTimed(t, nil)
	c := h.login(h.dial(chatserver.FlexPath))
	c.alive.Store(true)
	agent := h.dial(chatserver.BasicPath)
	h.joinAgent(agent, c.sessionID, nil)
	c.must(wire.RequestSubscribe, c.ref(nil))

	clk.advance(121 * time.Second) // past flex-push-timeout: a check, answered "connected"
	eventually(t, "a liveness check", func() bool { return c.checks.Load() == 1 })
	clk.advance(60 * time.Second)
	if st := c.must(wire.RequestRefresh, c.ref(nil)); st.ChatEnded {
		t.Fatal("a confirmed subscribed client was removed")
	}

	c.alive.Store(false)
	clk.advance(121 * time.Second)
	agent.waitPush("unconfirmed client removed with reason 3", leftWith("3"))
}

func TestUnsubscribeRestoresDisconnectTimeout(t *testing.T) {
	h, clk := startTimed(t, nil)
	c := h.login(h.dial(chatserver.FlexPath))
	agent := h.dial(chatserver.BasicPath)
	h.joinAgent(agent, c.sessionID, nil)
	c.must(wire.RequestSubscribe, c.ref(nil))
	clk.advance(100 * time.Second) // flex-disconnect-timeout (45 s) does not apply while subscribed
	c.must(wire.RequestUnsubscribe, c.ref(nil))
	clk.advance(46 * time.Second)
	agent.waitPush("client removed after unsubscribe", leftWith("3"))
	if n := c.checks.Load(); n != 0 {
		t.Errorf("%d liveness checks for a client that was not subscribed at the time", n)
	}
}

func TestInactivityClosesChat(t *testing.T) {
	h, clk := startTimed(t, func(o *config.ChatServerOptions) {
		o.InactivityControl.Enabled = true
		o.InactivityControl.TimeoutAlert = 60 * time.Second
		o.InactivityControl.TimeoutClose = 30 * time.Second
		o.Settings.FlexDisconnectTimeout = 1000 * time.Second
	})
	c := h.login(h.dial(chatserver.FlexPath))
	agent := h.dial(chatserver.BasicPath)
	h.joinAgent(agent, c.sessionID, nil)
	clk.advance(60 * time.Second)
	agent.waitPush("idle alert", func(m transcript.APIMessage, _ status) bool { return m.Type == transcript.IdleAlert })
	clk.advance(30 * time.Second)
	agent.waitPush("chat closed for inactivity", leftWith("7"))

	st := c.must(wire.RequestRefresh, c.ref(map[string]any{"transcriptPosition": 1}))
	// The customer sees what the Genesys widget renders: an IdleAlert with
	// the countdown to the close in its userData, then an IdleClose.
	var texts []string
	for _, m := range st.Messages {
		switch m.Type {
		case transcript.IdleAlert:
			texts = append(texts, "IdleAlert "+m.UserData["next-idle-timer-type"]+" "+m.UserData["next-idle-timer-secs"]+" "+m.Text)
		case transcript.IdleClose, transcript.Notice:
			texts = append(texts, string(m.Type)+" "+m.Text)
		}
	}
	want := []string{"IdleAlert IDLE_CONTROL_CLOSE 30 " + h.opts.InactivityControl.MessageAlert, "IdleClose " + h.opts.InactivityControl.MessageClose}
	if len(texts) != 2 || texts[0] != want[0] || texts[1] != want[1] {
		t.Errorf("customer sees notices %q, want %q", texts, want)
	}
	if !st.ChatEnded {
		t.Error("chat not ended after the inactivity close")
	}
}

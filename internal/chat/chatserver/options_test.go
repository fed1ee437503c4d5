package chatserver_test

import (
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// TestOptionsChangedAtRunTime: new options reach an active session at its
// next activity; invalid ones are refused and change nothing; options that
// need a restart are named and keep their values.
func TestOptionsChangedAtRunTime(t *testing.T) {
	h, clk := startTimed(t, func(o *config.ChatServerOptions) {
		o.InactivityControl.Enabled = true
		o.InactivityControl.TimeoutAlert = 600 * time.Second
		o.Settings.FlexDisconnectTimeout = 3600 * time.Second
	})
	c := h.login(h.dial(chatserver.FlexPath))
	agent := h.dial(chatserver.BasicPath)
	h.joinAgent(agent, c.sessionID, nil)

	bad := h.opts
	bad.InactivityControl.TimeoutAlert = 0
	if _, err := h.srv.Reconfigure(bad); err == nil {
		t.Fatal("timeout-alert = 0 was accepted")
	}
	next := h.opts
	next.InactivityControl.TimeoutAlert = 10 * time.Second
	next.InactivityControl.MessageAlert = "wake up"
	next.Settings.LimitForSessions = 7
	next.Settings.MaxMessageSize = 2 * h.opts.Settings.MaxMessageSize
	restart, err := h.srv.Reconfigure(next)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(restart, []string{"[settings] max-message-size"}) {
		t.Errorf("restart-only changes = %q, want max-message-size", restart)
	}
	if got := h.srv.Status().LimitForSessions; got != 7 {
		t.Errorf("limit-for-sessions = %d after the change, want 7", got)
	}

	clk.advance(20 * time.Second)                                    // the countdown armed with 600 s runs on
	c.must(wire.RequestMessage, c.ref(map[string]any{"text": "hi"})) // the next activity takes the new rules
	clk.advance(10 * time.Second)
	got := agent.waitPush("the alert of the new options", func(m transcript.APIMessage, _ status) bool {
		return m.Type == transcript.IdleAlert
	})
	if got.Text != "wake up" {
		t.Errorf("alert text = %q, want the new message-alert", got.Text)
	}
	for _, m := range agent.pushed() {
		if m.Type == transcript.IdleAlert && m.Index < got.Index {
			t.Errorf("an alert before the client's message: %+v", m)
		}
	}
}

// TestNewSessionTakesNewOptionsAtOnce: a session created after a change
// runs on the new options from its start.
func TestNewSessionTakesNewOptionsAtOnce(t *testing.T) {
	h, clk := startTimed(t, func(o *config.ChatServerOptions) { o.Settings.FlexDisconnectTimeout = 3600 * time.Second })
	next := h.opts
	next.Settings.FlexDisconnectTimeout = 5 * time.Second
	if _, err := h.srv.Reconfigure(next); err != nil {
		t.Fatal(err)
	}
	c := h.login(h.dial(chatserver.FlexPath))
	agent := h.dial(chatserver.BasicPath)
	h.joinAgent(agent, c.sessionID, nil)
	clk.advance(5 * time.Second)
	agent.waitPush("client removed after the new flex-disconnect-timeout", leftWith("3"))
}

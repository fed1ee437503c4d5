package webapi_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/transcript"
)

// idleChat is a chat server whose [inactivity-control] alerts after 1 s of
// silence and closes 2 s later.
func idleChat(t *testing.T) chatServer {
	return startChat(t, "chat-1", func(o *config.ChatServerOptions) {
		o.InactivityControl.Enabled = true
		o.InactivityControl.TimeoutAlert = time.Second
		o.InactivityControl.TimeoutClose = 2 * time.Second
	})
}

// checkIdleAlert checks what the Genesys widget reads of an inactivity
// alert: an IdleAlert event with the countdown in its userData, and the
// envelope's idleTimerExpire at its end.
func checkIdleAlert(t *testing.T, env envelope) {
	t.Helper()
	for _, m := range env.Messages {
		if m.Type != transcript.IdleAlert {
			continue
		}
		if m.Text == "" || m.UserData["next-idle-timer-type"] != "IDLE_CONTROL_CLOSE" || m.UserData["next-idle-timer-secs"] != "2" {
			t.Errorf("IdleAlert %+v", m)
		}
		if env.IdleTimerExpire != m.UTCTime+2000 {
			t.Errorf("idleTimerExpire %d, want utcTime %d + 2000", env.IdleTimerExpire, m.UTCTime)
		}
		return
	}
	t.Fatalf("no IdleAlert in %+v", env)
}

// hasType returns a predicate matching an envelope that carries an event of type typ.
func hasType(typ transcript.EventType) func(envelope) bool {
	return func(env envelope) bool {
		for _, m := range env.Messages {
			if m.Type == typ {
				return true
			}
		}
		return false
	}
}

// TestIdleAlertAndCloseREST: over REST the inactivity alert and close reach
// the customer as IdleAlert and IdleClose, not as plain notices.
func TestIdleAlertAndCloseREST(t *testing.T) {
	cs := idleChat(t)
	w := startWeb(t, nil, cs)
	c := w.requestChat(nil)
	joinAgent(t, cs.addr, c.chatID)
	pos := "1"
	var alert, closed envelope
	eventually(t, "the alert and the close", func() bool {
		env := c.must("refresh", "transcriptPosition", pos)
		if hasType(transcript.IdleAlert)(env) {
			alert = env
		}
		if hasType(transcript.IdleClose)(env) {
			closed = env
		}
		if len(env.Messages) > 0 {
			pos = strconv.Itoa(env.NextPosition)
		}
		return closed.ChatID != ""
	})
	checkIdleAlert(t, alert)
	if closed.IdleTimerExpire != 0 {
		t.Errorf("idleTimerExpire %d after the close", closed.IdleTimerExpire)
	}
}

// TestIdleAlertAndCloseCometD: the same pushed over CometD.
func TestIdleAlertAndCloseCometD(t *testing.T) {
	cs := idleChat(t)
	w := startWeb(t, nil, cs)
	c := dialComet(w, chatChannel)
	ch := c.requestChat()
	joinAgent(t, cs.addr, ch.chatID)
	checkIdleAlert(t, c.waitEnvelope("the idle alert", hasType(transcript.IdleAlert)))
	c.waitEnvelope("the idle close", hasType(transcript.IdleClose))
}

package chatserver_test

import (
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/wire"
)

// endingServer is a chat server on an interaction server with the given
// stop-abandoned-interaction and attach-session-statistics, and a routing
// client watching it.
func endingServer(t *testing.T, stop, attach string) (*harness, *ixnServer, *ixnClient) {
	t.Helper()
	x := startIxn(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "ixn.db"))
	h := chatServers(t, 1, []string{x.addr}, nil, func(o *config.ChatServerOptions) {
		o.Settings.StopAbandonedInteraction = stop
		o.Settings.AttachSessionStatistics = attach
	})[0]
	return h, x, x.register("urs", "routing")
}

// offline waits until the interaction of id is still there with IsOnline
// false, and returns its properties.
func offline(t *testing.T, urs *ixnClient, id string) map[string]string {
	t.Helper()
	var props map[string]string
	eventually(t, "IsOnline false on the interaction", func() bool {
		p, ok := urs.properties(id)
		props = p
		return ok && p[chatserver.PropIsOnline] == "false"
	})
	return props
}

// TestAbandonedInQueue: a customer who leaves before any agent joined has
// the interaction stopped under noagents and noanswer, and left running
// with IsOnline false under never.
func TestAbandonedInQueue(t *testing.T) {
	for _, tc := range []struct {
		stop    string
		stopped bool
	}{{"noagents", true}, {"noanswer", true}, {"true", true}, {"never", false}, {"false", false}} {
		t.Run(tc.stop, func(t *testing.T) {
			h, _, urs := endingServer(t, tc.stop, "fired")
			c := h.login(h.dial(chatserver.FlexPath))
			eventually(t, "the interaction submitted", func() bool { _, ok := urs.properties(c.sessionID); return ok })
			c.must(wire.RequestLogout, c.ref(nil))
			if tc.stopped {
				eventually(t, "the interaction stopped", func() bool { _, ok := urs.properties(c.sessionID); return !ok })
				return
			}
			props := offline(t, urs, c.sessionID)
			if props[chat.StatAbandoned] != "1" || props[chat.StatAgentsJoined] != "" {
				t.Errorf("statistics attached = %v, want %s 1 and no %s", props, chat.StatAbandoned, chat.StatAgentsJoined)
			}
		})
	}
}

// TestAbandonedWithAgent: a customer who leaves the agent it talked to,
// under noagents, leaves the interaction running with IsOnline false and
// every statistic attached (all); the agent's desktop stops it later.
func TestAbandonedWithAgent(t *testing.T) {
	h, x, urs := endingServer(t, "noagents", "all")
	alice := x.agent()
	c := h.login(h.dial(chatserver.FlexPath))
	alice.wait(wire.EventInvite, c.sessionID, nil)
	alice.ok(wire.RequestAccept, map[string]string{"interactionId": c.sessionID})
	desk := h.dial(chatserver.BasicPath)
	agentID := h.joinAgent(desk, c.sessionID, nil).UserID
	c.must(wire.RequestMessage, c.ref(map[string]any{"text": "hello"}))
	c.must(wire.RequestLogout, c.ref(nil))
	desk.must(wire.RequestReleaseParty, map[string]any{"sessionId": c.sessionID, "userId": agentID, "afterAction": "ForceClose"})

	props := offline(t, urs, c.sessionID)
	if props[chat.StatAgentsJoined] != "1" || props[chat.StatClientMessages] != "1" || props[chat.StatAbandoned] != "0" ||
		props[chat.StatBotsJoined] != "0" {
		t.Errorf("statistics attached = %v", props)
	}
	alice.ok(wire.RequestStopProcessing, map[string]string{"interactionId": c.sessionID, "reason": "done"})
}

// TestAlwaysStopsWithStatistics: under always the statistics reach the
// interaction before it stops (its routing client sees them in the
// property change that precedes EventProcessingStopped).
func TestAlwaysStopsWithStatistics(t *testing.T) {
	h, _, urs := endingServer(t, "always", "fired")
	c := h.login(h.dial(chatserver.FlexPath))
	eventually(t, "the interaction submitted", func() bool { _, ok := urs.properties(c.sessionID); return ok })
	urs.ok(wire.RequestSubscribe, map[string]string{"interactionId": c.sessionID})
	c.must(wire.RequestLogout, c.ref(nil))
	urs.wait(wire.EventPropertiesChanged, c.sessionID, func(ev ixnEvent) bool {
		return ev.Properties[chatserver.PropIsOnline] == "false" && ev.Properties[chat.StatDuration] != ""
	})
	urs.wait(wire.EventProcessingStopped, c.sessionID, nil)
}

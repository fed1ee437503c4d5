package ixnserver_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// TestAsyncCheckView runs the seed's async check view,
// GCTI_Chat_AsyncCheckAt < _current_time(), on a real server: with action
// route it sends a woken chat that waits for its busy last agent to anyone
// once its check time passed; with action stop it stops a chat left in a
// workbin.
func TestAsyncCheckView(t *testing.T) { eachBackend(t, testAsyncCheckView) }

func testAsyncCheckView(t *testing.T, b backend) {
	for _, action := range []string{"route", "stop"} {
		t.Run(action, func(t *testing.T) {
			h := b.start(t, parseOptions(t, "      settings: {async-last-agent-attempts: 2, async-last-agent-timeout: 0}\n"+
				"      view:check: {queue: default, condition: \"GCTI_Chat_AsyncCheckAt < _current_time()\", check-interval: 10, action: "+action+"}\n"+
				agentSection("alice", 1, "")+agentSection("bob", 1, "")))
			chat := h.register("chat-1", "media-server")
			alice := h.agent("alice")
			checkAt := strconv.FormatInt(h.clock.Now().Add(time.Minute).Unix(), 10)
			chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c1", "queue": "default",
				"properties": map[string]string{"GCTI_Chat_AsyncCheckAt": checkAt}})
			alice.wait(wire.EventInvite, forID("c1"))
			alice.ok(wire.RequestAccept, map[string]string{"interactionId": "c1"})
			alice.ok(wire.RequestPlaceInWorkbin, map[string]string{"interactionId": "c1", "workbin": "async"})
			if action == "stop" {
				h.clock.Advance(61 * time.Second)
				if e := chat.wait(wire.EventProcessingStopped, forID("c1")); e.Reason != "view check" {
					t.Errorf("stopped %+v", e)
				}
				return
			}
			chat.ok(wire.RequestSubmit, map[string]any{"interactionId": "c2", "queue": "default"})
			alice.wait(wire.EventInvite, forID("c2"))
			alice.ok(wire.RequestAccept, map[string]string{"interactionId": "c2"}) // alice is full
			bob := h.agent("bob")
			chat.ok(wire.RequestChangeProperties, map[string]any{"interactionId": "c1",
				"changedProperties": map[string]string{"GCTI_Chat_AsyncStatus": "2"}})
			h.clock.Advance(30 * time.Second) // a check runs: c1's time has not come
			chat.ok(wire.RequestGetInteractionProperties, map[string]string{"interactionId": "c1"})
			if n := len(bob.events(wire.EventInvite)); n != 0 {
				t.Fatalf("bob invited %d times while c1 waits for alice", n)
			}
			h.clock.Advance(31 * time.Second)
			bob.wait(wire.EventInvite, forID("c1"))
		})
	}
}

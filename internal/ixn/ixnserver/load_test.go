package ixnserver_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// TestRoutingOverTheWire routes 200 chats to 20 agent desktops of mixed
// capacity and skills that accept every invitation and stop the chat at
// once: every chat is delivered exactly once and no desktop ever holds more
// than its capacity. (ixn's TestRoutingLoad covers rejects and timeouts.)
func TestRoutingOverTheWire(t *testing.T) {
	var sections strings.Builder
	sections.WriteString("      queue:default: {routing: builtin}\n")
	capacity := map[string]int{}
	for i := range 20 {
		id := fmt.Sprintf("a%02d", i)
		capacity[id] = i%3 + 1
		skills := "english:3"
		if i%2 == 0 {
			skills += ",billing:5"
		}
		sections.WriteString(agentSection(id, capacity[id], skills))
	}
	h := start(t, parseOptions(t, sections.String()))
	chat := h.register("chat-1", "media-server")

	var mu sync.Mutex
	delivered := map[string]string{}
	var wg sync.WaitGroup
	for id := range capacity {
		desk := h.agent(id)
		wg.Go(func() { work(t, desk, id, capacity[id], &mu, delivered) })
	}
	for i := range 200 {
		props := map[string]string{}
		if i%3 == 0 {
			props["RequiredSkill"] = "billing:4"
		}
		chat.ok(wire.RequestSubmit, map[string]any{"interactionId": fmt.Sprintf("c%03d", i), "queue": "default", "properties": props})
	}
	eventually(t, "200 chats delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(delivered) == 200
	})
	for _, desk := range h.clients() {
		desk.conn.Close()
	}
	wg.Wait()
}

// work serves agent id's invitations until its connection ends: accept,
// check the load, stop.
func work(t *testing.T, desk *client, id string, capacity int, mu *sync.Mutex, delivered map[string]string) {
	seen := 0
	for {
		select {
		case <-desk.got:
		case <-desk.conn.Done():
			return
		case <-time.After(10 * time.Second):
			t.Errorf("%s: no invitation for 10s", id)
			return
		}
		invites := desk.events(wire.EventInvite)
		if len(invites)-seen > capacity {
			t.Errorf("%s: %d open invitations over capacity %d", id, len(invites)-seen, capacity)
		}
		for _, inv := range invites[seen:] {
			if _, err := desk.do(wire.RequestAccept, map[string]string{"interactionId": inv.InteractionID}); err != nil {
				t.Errorf("%s accept %s: %v", id, inv.InteractionID, err)
			}
			if _, err := desk.do(wire.RequestStopProcessing, map[string]string{"interactionId": inv.InteractionID}); err != nil {
				t.Errorf("%s stop %s: %v", id, inv.InteractionID, err)
			}
			mu.Lock()
			if prev, dup := delivered[inv.InteractionID]; dup {
				t.Errorf("%s delivered twice: to %s and %s", inv.InteractionID, prev, id)
			}
			delivered[inv.InteractionID] = id
			mu.Unlock()
		}
		seen = len(invites)
	}
}

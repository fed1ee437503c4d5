package ixnserver_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/wire"
)

// TestRoutingOverTheWire routes 200 chats, a third of them needing a
// skill half the agents lack, to 20 agent desktops of mixed capacity that
// accept every invitation and hold their chats until they are full, then
// stop the oldest: agents work at their capacity. Every chat is delivered
// exactly once, and the reporting log, replayed, shows no agent ever over
// its capacity (invitations and held chats counted). (ixn's
// TestRoutingLoad covers rejects and timeouts.)
func TestRoutingOverTheWire(t *testing.T) {
	var sections strings.Builder
	sections.WriteString("      settings: {invite-timeout: 3600}\n      queue:default: {routing: builtin}\n")
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
		h.clock.Advance(time.Second) // the longest idle agent differs from chat to chat
	}
	settle.Eventually(t, time.Minute, "200 chats delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(delivered) == 200
	})
	for _, desk := range h.clients() {
		desk.conn.Close()
	}
	wg.Wait()
	checkLoads(t, h, capacity)
}

// work serves agent id's invitations until its connection ends: accept
// each, and stop the oldest chat held once holding capacity of them.
func work(t *testing.T, desk *client, id string, capacity int, mu *sync.Mutex, delivered map[string]string) {
	seen := 0
	var held []string
	for {
		select {
		case <-desk.got:
		case <-desk.conn.Done():
			return
		}
		invites := desk.events(wire.EventInvite)
		for _, inv := range invites[seen:] {
			if _, err := desk.do(wire.RequestAccept, map[string]string{"interactionId": inv.InteractionID}); err != nil {
				failed(t, desk, err)
				continue
			}
			mu.Lock()
			if prev, dup := delivered[inv.InteractionID]; dup {
				t.Errorf("%s delivered twice: to %s and %s", inv.InteractionID, prev, id)
			}
			delivered[inv.InteractionID] = id
			mu.Unlock()
			if held = append(held, inv.InteractionID); len(held) == capacity {
				if _, err := desk.do(wire.RequestStopProcessing, map[string]string{"interactionId": held[0]}); err != nil {
					failed(t, desk, err)
				}
				held = held[1:]
			}
		}
		seen = len(invites)
	}
}

// failed reports a request's error unless the test closed the desk's
// connection meanwhile: every chat was delivered.
func failed(t *testing.T, desk *client, err error) {
	select {
	case <-desk.conn.Done():
	default:
		t.Errorf("%s: %v", desk.name, err)
	}
}

// checkLoads replays h's reporting log and follows each agent's load, its
// pending invitations and held chats, event by event: it never exceeds the
// agent's capacity, and each chat is accepted once.
func checkLoads(t *testing.T, h *harness, capacity map[string]int) {
	t.Helper()
	stat := h.register("stat", "reporting")
	r := stat.ok(wire.RequestSubscribe, map[string]any{"topic": "reporting", "fromId": 1})
	last := int(r["lastEventId"].(float64))
	eventually(t, "the reporting log replayed", func() bool { return len(stat.names()) >= last })
	load, peak, accepted := map[string]int{}, map[string]int{}, map[string]int{}
	stat.mu.Lock()
	evs := append([]wire.Message(nil), stat.evs[:last]...)
	stat.mu.Unlock()
	for _, m := range evs {
		var e event
		if err := json.Unmarshal(m.Body, &e); err != nil {
			t.Fatal(err)
		}
		switch m.Name {
		case "EventAgentInvited":
			load[e.AgentID]++
			peak[e.AgentID] = max(peak[e.AgentID], load[e.AgentID])
			if load[e.AgentID] > capacity[e.AgentID] {
				t.Errorf("event %d: %s has %d chats and invitations, capacity %d", e.EventID, e.AgentID, load[e.AgentID], capacity[e.AgentID])
			}
		case "EventRejected", "EventRevoked", "EventPartyRemoved":
			load[e.AgentID]--
		case "EventAccepted":
			accepted[e.InteractionID]++
		}
	}
	for id, n := range accepted {
		if n != 1 {
			t.Errorf("%s accepted %d times", id, n)
		}
	}
	full := 0
	for id, p := range peak {
		if p == capacity[id] {
			full++
		}
	}
	if len(accepted) != 200 || full != len(capacity) {
		t.Errorf("%d chats accepted, %d of %d agents reached their capacity; peaks %v", len(accepted), full, len(capacity), peak)
	}
}

package cli

import (
	"context"
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// TestAgentFollowsChatEndToEnd runs the real binary with an interaction
// server: a customer requests a chat through the web API, an agent logged in
// to the interaction server is invited, accepts, joins the chat on the chat
// server named in the interaction's properties; they exchange messages; that
// chat server is killed; the agent follows the property change to the new
// chat server and the chat goes on.
func TestAgentFollowsChatEndToEnd(t *testing.T) {
	c := startIxnCluster(t)
	waitFor(t, c.out, "gms-1: customer widget http://"+c.addrs["gms-1"]+"/widget/ , agent desktop http://"+c.addrs["gms-1"]+"/desktop/")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	events := make(chan wire.Message, 64)
	ixnConn := c.loginAlice(ctx, events)

	ch := c.newChat()
	invite := waitMessage(t, events, wire.EventInvite)
	var inv struct {
		InteractionID string            `json:"interactionId"`
		Properties    map[string]string `json:"properties"`
	}
	json.Unmarshal(invite.Body, &inv)
	if inv.InteractionID != ch.id || inv.Properties["ChatServerApplication"] != ch.alias {
		t.Fatalf("invite = %+v, want chat %s on %s", inv, ch.id, ch.alias)
	}
	var accepted struct{ Grant string }
	request(ctx, t, ixnConn, wire.RequestAccept, map[string]any{"interactionId": ch.id}, &accepted)
	owner := inv.Properties["ChatServerApplication"]
	if err := c.join(ctx, ch, inv.Properties["ChatServerAddress"], map[string]any{"sessionId": ch.id, "nickname": "Alice", "personId": "alice",
		"grant": accepted.Grant}); err != nil {
		t.Fatal(err)
	}
	if err := c.talk(ctx, ch, 0, 0, 2); err != nil {
		t.Fatal(err)
	}

	c.signal(owner, syscall.SIGKILL)
	if err := c.resume(ctx, ch, time.Now(), owner); err != nil {
		t.Fatal(err)
	}
	changed := waitEventWhere(t, events, func(m wire.Message) bool {
		var ev struct{ Properties map[string]string }
		json.Unmarshal(m.Body, &ev)
		return m.Name == wire.EventPropertiesChanged && ev.Properties["ChatServerApplication"] != owner
	})
	var ev struct{ Properties map[string]string }
	json.Unmarshal(changed.Body, &ev)
	if err := c.join(ctx, ch, ev.Properties["ChatServerAddress"], map[string]any{"sessionId": ch.id, "userId": ch.agentID}); err != nil {
		t.Fatal(err)
	}
	if err := c.talk(ctx, ch, 0, 2, 4); err != nil {
		t.Fatal(err)
	}
	if err := c.catchUp(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if err := c.end(ctx, ch); err != nil {
		t.Fatal(err)
	}
	checkTranscripts(t, "sqlite", c.dataDir, []*haChat{ch})
}

// loginAlice logs the agent alice in at ixn-1, as the web API's desktop
// bridge does, ready; its events go to events.
func (c *cluster) loginAlice(ctx context.Context, events chan<- wire.Message) *wire.Conn {
	c.t.Helper()
	conn := dialEvents(ctx, c.t, c.web(), c.url("ixn-1", "ws", "/wire/ixn"), "ixn-1", events)
	request(ctx, c.t, conn, wire.RequestRegisterClient, map[string]any{"clientName": "gms-1/alice", "clientType": "agent"}, nil)
	request(ctx, c.t, conn, wire.RequestAgentLogin, map[string]any{"agentId": "alice", "password": "alice", "place": "p1", "media": map[string]int{"chat": 1}}, nil)
	request(ctx, c.t, conn, wire.RequestAgentAvailable, map[string]any{}, nil)
	return conn
}

// startIxnCluster is startIxnClusterOn SQLite.
func startIxnCluster(t *testing.T) *cluster {
	t.Helper()
	return startIxnClusterOn(t, "sqlite")
}

// startIxnClusterOn is startCluster with an interaction server that both
// chat servers submit their chats to and the web API's desktop bridge logs
// agents in to, all on database db ("sqlite" or a PostgreSQL DSN).
func startIxnClusterOn(t *testing.T, db string) *cluster {
	t.Helper()
	return startESPClusterOn(t, db, "", "")
}

// dialEvents connects to a wire endpoint and sends every unsolicited
// message to events.
func dialEvents(ctx context.Context, t *testing.T, p testPeer, u, server string, events chan<- wire.Message) *wire.Conn {
	t.Helper()
	return p.dial(ctx, t, u, server, func(m wire.Message) {
		select {
		case events <- m:
		default:
		}
	})
}

func waitMessage(t *testing.T, events <-chan wire.Message, name string) wire.Message {
	t.Helper()
	return waitEventWhere(t, events, func(m wire.Message) bool { return m.Name == name })
}

func waitEventWhere(t *testing.T, events <-chan wire.Message, ok func(wire.Message) bool) wire.Message {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case m := <-events:
			if ok(m) {
				return m
			}
		case <-deadline:
			t.Fatal("timed out waiting for an event from the interaction server")
		}
	}
}

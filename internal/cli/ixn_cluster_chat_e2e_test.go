package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/wire"
)

// TestIxnClusterChatEndToEnd runs `parley up` on a cluster: two nodes (an
// interaction server on a PostgreSQL schema each), two proxies in a proxy
// cluster, two chat servers and a web API reaching the nodes through it,
// in plain text and with TLS on every listener and link.
// Customers' chats go through the whole stack to an agent logged in
// through a proxy, from both nodes; the proxy the chat servers use is then
// SIGKILLed: they move to the other one (as does the agent, when it was
// there) and a new chat reaches the agent.
func TestIxnClusterChatEndToEnd(t *testing.T) {
	for _, withTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "tls"}[withTLS], func(t *testing.T) { runClusterChat(t, withTLS) })
	}
}

func runClusterChat(t *testing.T, withTLS bool) {
	dsnA, dsnB := storetest.PostgresDSN(t), storetest.PostgresDSN(t)
	dir := t.TempDir()
	apps := []string{"ixn-a", "ixn-b", "proxy-1", "proxy-2", "chat-1", "chat-2", "gms-1"}
	c := newCluster(t, dir, apps...)
	agent := `{password-hash: "pbkdf2-sha256$1000$cGFybGV5LXRlc3Qtc2FsdC1hbGljZQ$eAr0mFoiHQh9dyB/Sk/MIr51rvCiPeCfzAtr3cGQ0fg", capacity-chat: 5}`
	yaml := fmt.Sprintf(`data-dir: %s
databases:
  node-a: {driver: postgres, dsn: %q}
  node-b: {driver: postgres, dsn: %q}
  main: {driver: sqlite, dsn: parley.db}
applications:
  ixn-a: {type: interaction-server, listen: %q, database: node-a, options: {agent:alice: %s}}
  ixn-b: {type: interaction-server, listen: %q, database: node-b, options: {agent:alice: %s}}
  nodes: {type: application-cluster, connections: [ixn-a, ixn-b], options: {cluster-settings: {cluster-type: interaction-server}}}
  proxy-1: {type: interaction-proxy, listen: %q, connections: [nodes], }
  proxy-2: {type: interaction-proxy, listen: %q, connections: [nodes], }
  proxies: {type: application-cluster, connections: [proxy-1, proxy-2], options: {cluster-settings: {cluster-type: interaction-proxy}}}
  chat-1: {type: chat-server, listen: %q, database: main, connections: [proxies]}
  chat-2: {type: chat-server, listen: %q, database: main, connections: [proxies]}
  gms-1: {type: web-api, listen: %q, connections: [chat-1, chat-2, proxies], options: {settings: {request-timeout: 4}}}
`, c.dataDir, dsnA, dsnB, c.addrs["ixn-a"], agent, c.addrs["ixn-b"], agent, c.addrs["proxy-1"], c.addrs["proxy-2"],
		c.addrs["chat-1"], c.addrs["chat-2"], c.addrs["gms-1"])
	if withTLS {
		yaml = c.withTLS(yaml)
	}
	c.launch(dir, yaml, apps...)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	events := make(chan wire.Message, 256)
	deskAt := "proxy-1"
	var desk *wire.Conn
	login := func() {
		desk = dialEvents(ctx, t, c.web(), c.url(deskAt, "ws", "/wire/ixn"), deskAt, events)
		request(ctx, t, desk, wire.RequestRegisterClient, map[string]any{"clientName": "gms-1/alice", "clientType": "agent"}, nil)
		request(ctx, t, desk, wire.RequestAgentLogin, map[string]any{"agentId": "alice", "password": "alice"}, nil)
	}
	login()
	// Chats until both nodes hold one; the agent takes and talks in each.
	for i := 0; c.submitted("ixn-a") == 0 || c.submitted("ixn-b") == 0; i++ {
		if i == 12 { // a chance of 1 in 2048 with chat ids placed by hash
			t.Fatalf("12 chats, the nodes took %d and %d", c.submitted("ixn-a"), c.submitted("ixn-b"))
		}
		c.chatWithAgent(ctx, t, desk, events)
	}

	// The chat servers' proxy dies; they (and the agent, if it was there)
	// move to the other.
	used := "proxy-1"
	if c.submits("proxy-2") > c.submits("proxy-1") {
		used = "proxy-2"
	}
	t.Logf("the nodes took %d and %d chats; killing %s, which served %d submissions, the agent on %s", c.submitted("ixn-a"), c.submitted("ixn-b"), used, c.submits(used), deskAt)
	c.signal(used, syscall.SIGKILL)
	if used == deskAt {
		deskAt = map[string]string{"proxy-1": "proxy-2", "proxy-2": "proxy-1"}[used]
		login()
	}
	c.chatWithAgent(ctx, t, desk, events)
}

// chatWithAgent opens a customer chat through the web API, has the agent
// (logged in on desk) accept its invitation, join and exchange
// messages, then ends it (its interaction stops: the agent's capacity is
// free again).
func (c *cluster) chatWithAgent(ctx context.Context, t *testing.T, desk *wire.Conn, events chan wire.Message) {
	t.Helper()
	ch := c.newChat()
	invite := waitEventWhere(t, events, func(m wire.Message) bool {
		var inv struct{ InteractionID string }
		_ = json.Unmarshal(m.Body, &inv)
		return m.Name == wire.EventInvite && inv.InteractionID == ch.id
	})
	var inv struct{ Properties map[string]string }
	_ = json.Unmarshal(invite.Body, &inv)
	var accepted struct{ Grant string }
	request(ctx, t, desk, wire.RequestAccept, map[string]any{"interactionId": ch.id}, &accepted)
	if err := c.join(ctx, ch, inv.Properties["ChatServerAddress"], map[string]any{"sessionId": ch.id, "nickname": "Alice",
		"personId": "alice", "grant": accepted.Grant}); err != nil {
		t.Fatal(err)
	}
	if err := c.talk(ctx, ch, 0, 0, 2); err != nil {
		t.Fatal(err)
	}
	if err := c.end(ctx, ch); err != nil {
		t.Fatal(err)
	}
}

// submitted reads how many RequestSubmit an interaction server took.
func (c *cluster) submitted(name string) int {
	return int(c.metric(name, `parley_ixn_requests_total{name="RequestSubmit"}`))
}

// submits reads how many RequestSubmit a proxy served.
func (c *cluster) submits(name string) int {
	return int(c.metric(name, `parley_ixnproxy_requests_total{name="RequestSubmit"}`))
}

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/wire"
)

// TestIxnClusterEndToEnd runs an interaction server cluster as real
// `parley run` processes: two nodes, each a primary/backup pair on a
// PostgreSQL schema of its own, behind two interaction proxies. The test
// plays the chat server and the web API's desktop bridge (proving their
// names) and an external reporting client, all through the proxies:
// submissions spread over both nodes, an agent logged in through one proxy
// gets and accepts interactions of both, a workbin and a search show both
// nodes' interactions, the merged reporting stream resumes on the other
// proxy after the first is SIGKILLed with no event lost or repeated, the
// kill of node a's primary leaves its backup serving through the proxy, and
// once both of node a's servers are killed its interactions answer 2003
// while node b's flow on.
func TestIxnClusterEndToEnd(t *testing.T) {
	dsnA, dsnB := storetest.PostgresDSN(t), storetest.PostgresDSN(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	names := []string{"ixn-a1", "ixn-a2", "ixn-b1", "ixn-b2", "proxy-1", "proxy-2", "chat-1", "gms-1"}
	held, addrs := holdListeners(t, names...)
	agent := fmt.Sprintf("{password-hash: %q, capacity-chat: 10}", ixn.HashPassword("alice", "parley-test-salt-alice", ixn.MinPasswordIterations))
	node := func(name, db string) string {
		return fmt.Sprintf("  %s: {type: interaction-server, listen: %q, database: %s, options: {settings: {agent-reconnect-timeout: 0}, agent:alice: %s}}\n", name, addrs[name], db, agent)
	}
	// stats-1 is an external reporting client of the proxies.
	const proxyOptions = "{settings: {request-timeout: 3, pull-hold-timeout: 2}, client:stats-1: {type: reporting}}"
	yaml := fmt.Sprintf("data-dir: %s\ndatabases:\n  node-a: {driver: postgres, dsn: %q}\n  node-b: {driver: postgres, dsn: %q}\n"+
		"  chat: {driver: sqlite, dsn: chat.db}\napplications:\n", dataDir, dsnA, dsnB) +
		node("ixn-a1", "node-a") + node("ixn-a2", "node-a") + node("ixn-b1", "node-b") + node("ixn-b2", "node-b") +
		"  ixn-cluster: {type: application-cluster, connections: [ixn-a1, ixn-b1], options: {cluster-settings: {cluster-type: interaction-server}}}\n" +
		fmt.Sprintf("  proxy-1: {type: interaction-proxy, listen: %q, connections: [ixn-cluster], options: %s}\n", addrs["proxy-1"], proxyOptions) +
		fmt.Sprintf("  proxy-2: {type: interaction-proxy, listen: %q, connections: [ixn-cluster], options: %s}\n", addrs["proxy-2"], proxyOptions) +
		"  proxies: {type: application-cluster, connections: [proxy-1, proxy-2], options: {cluster-settings: {cluster-type: interaction-proxy}}}\n" +
		"  # Not run: the test plays their parts, proving their names.\n" +
		fmt.Sprintf("  chat-1: {type: chat-server, listen: %q, database: chat, connections: [proxies]}\n", addrs["chat-1"]) +
		fmt.Sprintf("  gms-1: {type: web-api, listen: %q, connections: [chat-1, proxies]}\n", addrs["gms-1"])
	file := filepath.Join(dir, "parley.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runMain(t, "check-config", "--config", file); code != exitOK {
		t.Fatalf("check-config: %s", errOut)
	}
	procs := map[string]interface{ Signal(os.Signal) error }{}
	for _, name := range []string{"ixn-a1", "ixn-b1", "ixn-a2", "ixn-b2"} {
		procs[name] = runApp(t, held, file, name).Process
		if strings.HasSuffix(name, "1") {
			waitHealth(t, addrs[name], http.StatusOK, "ok") // the first of each pair is its primary
		}
	}
	for _, name := range []string{"proxy-1", "proxy-2"} {
		procs[name] = runApp(t, held, file, name).Process
		waitHealth(t, addrs[name], http.StatusOK, "ok")
		settle.Eventually(t, 10*time.Second, name+" reaches both nodes", func() bool {
			resp, err := peerAs(t, dataDir, "admin").adminGet("http://" + addrs[name] + "/metrics")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return strings.Contains(string(b), "\nparley_ixnproxy_nodes_up 2\n")
		})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	at := func(proxy string) string { return "ws://" + addrs[proxy] + "/wire/ixn" }

	events := make(chan wire.Message, 256)
	desk := dialEvents(ctx, t, peerAs(t, dataDir, "gms-1"), at("proxy-1"), "proxy-1", events)
	request(ctx, t, desk, wire.RequestRegisterClient, map[string]string{"clientName": "gms-1/alice", "clientType": "agent"}, nil)
	request(ctx, t, desk, wire.RequestAgentLogin, map[string]string{"agentId": "alice", "password": "alice"}, nil)
	stats := newReporter(ctx, t, reportingClient(t, dataDir), at("proxy-1"), "proxy-1", "")
	// A proxy admits each peer only in its role: a reporting client is no media server.
	rogue := reportingClient(t, dataDir).dial(ctx, t, at("proxy-2"), "proxy-2", nil)
	_, err := rogue.Request(ctx, wire.RequestRegisterClient, map[string]string{"clientName": "stats-1", "clientType": "media-server"}, nil)
	if we, ok := errors.AsType[*wire.Error](err); !ok || we.Code != wire.CodeRoleRefused {
		t.Fatalf("a reporting client registering as a media server at a proxy: %v, want 111", err)
	}
	chat := peerAs(t, dataDir, "chat-1").dial(ctx, t, at("proxy-2"), "proxy-2", nil)
	request(ctx, t, chat, wire.RequestRegisterClient, map[string]string{"clientName": "chat-1", "clientType": "media-server"}, nil)

	// Routing across the nodes: ids made by the nodes name them.
	byNode := map[string][]string{}
	for range 4 {
		var ack struct{ InteractionID string }
		request(ctx, t, chat, wire.RequestSubmit, map[string]any{"queue": "default"}, &ack)
		n := ack.InteractionID[:len("ixn-a")]
		byNode[n] = append(byNode[n], ack.InteractionID)
	}
	if len(byNode["ixn-a"]) != 2 || len(byNode["ixn-b"]) != 2 {
		t.Fatalf("submissions by node: %v", byNode)
	}
	for range 4 {
		inv := waitMessage(t, events, wire.EventInvite)
		var body struct{ InteractionID string }
		_ = json.Unmarshal(inv.Body, &body)
		request(ctx, t, desk, wire.RequestAccept, map[string]string{"interactionId": body.InteractionID}, nil)
	}
	// Merged workbin: one interaction of each node on hold.
	for _, id := range []string{byNode["ixn-a"][0], byNode["ixn-b"][0]} {
		request(ctx, t, desk, wire.RequestPlaceInWorkbin, map[string]string{"interactionId": id, "workbin": "later"}, nil)
	}
	var content struct{ Interactions []ixn.Interaction }
	request(ctx, t, desk, wire.RequestGetWorkbinContent, map[string]string{"workbin": "later"}, &content)
	if len(content.Interactions) != 2 {
		t.Fatalf("merged workbin: %+v", content.Interactions)
	}
	var found struct{ Interactions []ixn.Interaction }
	request(ctx, t, desk, wire.RequestFindInteractions, map[string]string{"condition": ""}, &found)
	if len(found.Interactions) != 4 {
		t.Fatalf("merged search: %+v", found.Interactions)
	}

	// The reporting client moves to the other proxy when its proxy dies.
	stats.await(t, func() bool { return stats.count() >= 4*5+2*2 }) // submit, queue, invite, taken, accept; workbin
	if err := procs["proxy-1"].Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	request(ctx, t, chat, wire.RequestChangeProperties, map[string]any{"interactionId": byNode["ixn-b"][1],
		"changedProperties": map[string]string{"Note": "while the reporter moves"}}, nil)
	stats2 := newReporter(ctx, t, reportingClient(t, dataDir), at("proxy-2"), "proxy-2", stats.position())
	request(ctx, t, chat, wire.RequestChangeProperties, map[string]any{"interactionId": byNode["ixn-a"][1],
		"changedProperties": map[string]string{"Note": "after"}}, nil)
	stats2.await(t, func() bool { return stats2.count() >= 2 })
	checkContinuous(t, stats, stats2)

	// Node a's primary dies: its backup serves, the proxy follows it.
	if err := procs["ixn-a1"].Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	settle.Eventually(t, 20*time.Second, "node a's interaction through the proxy after its backup took over", func() bool {
		var got struct{ Interaction ixn.Interaction }
		_, err := chat.Request(ctx, wire.RequestGetInteractionProperties, map[string]string{"interactionId": byNode["ixn-a"][1]}, &got)
		return err == nil && got.Interaction.State == ixn.StateHandling
	})
	t.Logf("node a served through the proxy %s after its primary's SIGKILL", time.Since(killed).Round(time.Millisecond))

	// Both of node a's servers die: its interactions are not accessible,
	// node b's flow on, new submissions go to node b.
	if err := procs["ixn-a2"].Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	settle.Eventually(t, 10*time.Second, "2003 for node a's interaction", func() bool {
		_, err := chat.Request(ctx, wire.RequestGetInteractionProperties, map[string]string{"interactionId": byNode["ixn-a"][1]}, nil)
		we, ok := errors.AsType[*wire.Error](err)
		return ok && we.Code == wire.CodeNotAccessible
	})
	request(ctx, t, chat, wire.RequestStopProcessing, map[string]string{"interactionId": byNode["ixn-b"][1], "reason": "done"}, nil)
	for range 2 {
		var ack struct{ InteractionID string }
		request(ctx, t, chat, wire.RequestSubmit, map[string]any{"queue": "default"}, &ack)
		if !strings.HasPrefix(ack.InteractionID, "ixn-b") {
			t.Fatalf("submitted to %s while node a is down", ack.InteractionID)
		}
	}
}

// reportingClient is the external reporting client stats-1, with the key
// `parley client-key --name stats-1` prints.
func reportingClient(t *testing.T, dataDir string) testPeer {
	p := peerAs(t, dataDir, "stats-1")
	p.key = p.key.ClientKey("stats-1")
	return p
}

// reporter is a reporting client of a proxy's merged stream.
type reporter struct {
	events chan wire.Message
	got    []reportedEvent
}

type reportedEvent struct {
	Node     string `json:"node"`
	EventID  int64  `json:"eventId"`
	Position string `json:"position"`
}

func newReporter(ctx context.Context, t *testing.T, p testPeer, url, server, position string) *reporter {
	t.Helper()
	r := &reporter{events: make(chan wire.Message, 1024)}
	c := dialEvents(ctx, t, p, url, server, r.events)
	request(ctx, t, c, wire.RequestRegisterClient, map[string]string{"clientName": "stats-1", "clientType": "reporting"}, nil)
	request(ctx, t, c, wire.RequestSubscribe, map[string]string{"topic": "reporting", "position": position}, nil)
	return r
}

// await reads events until cond holds (at most 10 s).
func (r *reporter) await(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case m := <-r.events:
			var e reportedEvent
			_ = json.Unmarshal(m.Body, &e)
			if e.Node != "" {
				r.got = append(r.got, e)
			}
		case <-deadline:
			t.Fatalf("reporting: %d events, condition not met", len(r.got))
		}
	}
}

func (r *reporter) count() int { return len(r.got) }

func (r *reporter) position() string {
	if len(r.got) == 0 {
		return ""
	}
	return r.got[len(r.got)-1].Position
}

// checkContinuous fails unless the events of both reporters, per node,
// have consecutive ids: nothing lost or repeated across the move.
func checkContinuous(t *testing.T, parts ...*reporter) {
	t.Helper()
	last := map[string]int64{}
	for _, r := range parts {
		for _, e := range r.got {
			if prev, ok := last[e.Node]; ok && e.EventID != prev+1 {
				t.Fatalf("node %s: event %d after %d", e.Node, e.EventID, prev)
			}
			last[e.Node] = e.EventID
		}
	}
	if len(last) != 2 {
		t.Fatalf("events of nodes %v, want both", last)
	}
}

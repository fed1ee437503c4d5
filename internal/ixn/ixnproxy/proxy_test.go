package ixnproxy_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/wire"
)

// httpBody returns the body of a GET of url, or "" when it fails.
func httpBody(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// holder returns which of the nodes (dialled directly) holds id.
func holder(t *testing.T, id string, nodes ...*testNode) string {
	t.Helper()
	var at []string
	for _, n := range nodes {
		c := register(t, n.addr, "probe", "reporting")
		if _, err := c.do(wire.RequestGetInteractionProperties, map[string]string{"interactionId": id}); err == nil {
			at = append(at, n.name)
		}
	}
	return strings.Join(at, ",")
}

// Submissions through the proxy spread over the nodes; an agent logged in
// through the proxy is logged in on both and gets, accepts and stops
// interactions of either.
func TestProxyRoutesAcrossNodes(t *testing.T) {
	a, b := startNode(t, "node-a", nodeOptions(t, "")), startNode(t, "node-b", nodeOptions(t, ""))
	p := startProxy(t, a.node(), b.node())
	ms := register(t, p.addr, "chat-1", "media-server")
	seen := map[string]int{}
	for i := range 4 {
		id := "chat-" + string(rune('a'+i))
		ms.ok(wire.RequestSubmit, map[string]any{"interactionId": id, "queue": "default"})
		seen[holder(t, id, a, b)]++
	}
	if seen["node-a"] != 2 || seen["node-b"] != 2 {
		t.Fatalf("submissions by node: %v, want 2 on each", seen)
	}
	ms.fails(wire.RequestSubmit, map[string]any{"interactionId": "chat-a", "queue": "default"}, wire.CodeDuplicateInteraction)
	made := ms.ok(wire.RequestSubmit, map[string]any{"queue": "default"})
	if id, _ := made["interactionId"].(string); !strings.HasPrefix(id, "node-") {
		t.Fatalf("made id %v", made)
	}

	desk := register(t, p.addr, "desk/alice", "agent")
	login := desk.ok(wire.RequestAgentLogin, map[string]any{"agentId": "alice", "password": "alice"})
	if login["agentId"] != "alice" {
		t.Fatalf("login reply %v", login)
	}
	done := map[string]bool{}
	nodesSeen := map[string]bool{}
	for range 5 {
		id := desk.invited(done)
		desk.ok(wire.RequestAccept, map[string]string{"interactionId": id})
		nodesSeen[holder(t, id, a, b)] = true
		desk.ok(wire.RequestStopProcessing, map[string]string{"interactionId": id, "reason": "done"})
		done[id] = true
	}
	if !nodesSeen["node-a"] || !nodesSeen["node-b"] {
		t.Fatalf("accepted interactions of nodes %v, want both", nodesSeen)
	}
	desk.fails(wire.RequestGetInteractionProperties, map[string]string{"interactionId": "nope"}, wire.CodeNoSuchInteraction)
	desk.fails(wire.RequestGetInteractionProperties, map[string]any{"interactionId": 7}, wire.CodeNotAccessible)
	desk.fails(wire.RequestGetInteractionProperties, map[string]any{}, wire.CodeNotAccessible)
	desk.fails("RequestPing", map[string]any{}, wire.CodeUnsupported)
}

// A node whose server is down holds its interactions: they answer 2003;
// the other node's flow on, and what the cache knows answers definitely. When it comes back its interactions answer
// again and the proxy logs its agents in there again.
func TestProxyNodeDown(t *testing.T) {
	a, b := startNode(t, "node-a", nodeOptions(t, "")), startNode(t, "node-b", nodeOptions(t, ""))
	p := startProxy(t, a.node(), b.node())
	ms := register(t, p.addr, "chat-1", "media-server")
	ids := map[string]string{}
	for _, id := range []string{"x1", "x2"} {
		ms.ok(wire.RequestSubmit, map[string]any{"interactionId": id, "queue": "ext"})
		ids[holder(t, id, a, b)] = id
	}
	desk := register(t, p.addr, "desk/bob", "agent")
	desk.ok(wire.RequestAgentLogin, map[string]any{"agentId": "bob", "password": "bob"})
	b.stop()
	settle.Eventually(t, 5*time.Second, "the proxy sees node-b down", func() bool {
		_, err := ms.do(wire.RequestGetInteractionProperties, map[string]string{"interactionId": "unknown"})
		we, ok := err.(*wire.Error)
		return ok && we.Code == wire.CodeNotAccessible
	})
	ms.ok(wire.RequestChangeProperties, map[string]any{"interactionId": ids["node-a"], "changedProperties": map[string]string{"k": "v"}})
	ms.fails(wire.RequestChangeProperties, map[string]any{"interactionId": ids["node-b"], "changedProperties": map[string]string{"k": "v"}}, wire.CodeNotAccessible)
	// What the cache knows answers definitely while node-b is down: an
	// interaction it places on node-a that node-a no longer has is 2100.
	direct := register(t, a.addr, "chat-1", "media-server")
	direct.ok(wire.RequestStopProcessing, map[string]any{"interactionId": ids["node-a"], "reason": "past the proxy"})
	ms.fails(wire.RequestGetInteractionProperties, map[string]string{"interactionId": ids["node-a"]}, wire.CodeNoSuchInteraction)
	for range 3 { // every new submission goes to the node that is up
		r := ms.ok(wire.RequestSubmit, map[string]any{"queue": "ext"})
		if id, _ := r["interactionId"].(string); !strings.HasPrefix(id, "node-a-") {
			t.Fatalf("submitted %v while node-b is down", r)
		}
	}

	fresh := startProxyUp(t, 1, a.node(), b.node()) // its cache is empty
	ms2 := register(t, fresh.addr, "chat-2", "media-server")
	ms2.fails(wire.RequestGetInteractionProperties, map[string]string{"interactionId": ids["node-b"]}, wire.CodeNotAccessible)
	ms2.fails(wire.RequestGetInteractionProperties, map[string]string{"interactionId": ids["node-a"]}, wire.CodeNotAccessible)

	// The node comes back: its interactions are there again, and the agent
	// logged in through the proxy while it was down is logged in there.
	b.restart(t)
	settle.Eventually(t, 5*time.Second, "node-b's interaction again", func() bool {
		_, err := ms.do(wire.RequestGetInteractionProperties, map[string]string{"interactionId": ids["node-b"]})
		return err == nil
	})
	overview := register(t, b.addr, "probe", "reporting")
	settle.Eventually(t, 5*time.Second, "bob logged in on node-b again", func() bool {
		r, err := overview.do(wire.RequestGetOverview, map[string]any{})
		agents, _ := r["agents"].([]any)
		return err == nil && len(agents) == 1
	})
}

// A node that takes only some media types gets only those; a media type no
// node takes is 2001.
func TestProxyMediaTypes(t *testing.T) {
	a := startNode(t, "node-a", nodeOptions(t, "      cluster-settings: {media-types: email}\n"))
	b := startNode(t, "node-b", nodeOptions(t, "      cluster-settings: {media-types: chat}\n"))
	na, nb := a.node(), b.node()
	na.MediaTypes, nb.MediaTypes = []string{"email"}, []string{"chat"}
	p := startProxy(t, na, nb)
	ms := register(t, p.addr, "chat-1", "media-server")
	for i := range 3 {
		id := "e" + string(rune('0'+i))
		ms.ok(wire.RequestSubmit, map[string]any{"interactionId": id, "mediaType": "email", "queue": "ext"})
		if at := holder(t, id, a, b); at != "node-a" {
			t.Fatalf("email %s on %q", id, at)
		}
	}
	ms.fails(wire.RequestSubmit, map[string]any{"mediaType": "voice", "queue": "ext"}, wire.CodeNoServerForMedia)
	ms.fails(wire.RequestSubmit, map[string]any{"mediaType": 3, "queue": "ext"}, wire.CodeNotAccessible)
}

// The same client id on two nodes (submitted past the proxies) is 2005
// where the proxy can tell; a retried submission through the proxy goes to
// the node that has the id, which answers 2101.
func TestProxyDuplicateIDs(t *testing.T) {
	a, b := startNode(t, "node-a", nodeOptions(t, "")), startNode(t, "node-b", nodeOptions(t, ""))
	for _, n := range []*testNode{a, b} {
		register(t, n.addr, "chat-1", "media-server").ok(wire.RequestSubmit, map[string]any{"interactionId": "twice", "queue": "ext"})
	}
	p := startProxy(t, a.node(), b.node())
	ms := register(t, p.addr, "chat-1", "media-server")
	ms.fails(wire.RequestGetInteractionProperties, map[string]string{"interactionId": "twice"}, wire.CodeAmbiguousInteraction)
	ms.ok(wire.RequestSubmit, map[string]any{"interactionId": "once", "queue": "ext"})
	fresh := register(t, startProxy(t, a.node(), b.node()).addr, "chat-1", "media-server")
	fresh.fails(wire.RequestSubmit, map[string]any{"interactionId": "once", "queue": "ext"}, wire.CodeDuplicateInteraction)
	if at := holder(t, "once", a, b); at != "node-a" && at != "node-b" {
		t.Fatalf("once held by %q", at)
	}
}

// A search through the proxy merges every node's matches.
func TestProxyMergedSearch(t *testing.T) {
	a, b := startNode(t, "node-a", nodeOptions(t, "")), startNode(t, "node-b", nodeOptions(t, ""))
	p := startProxy(t, a.node(), b.node())
	ms := register(t, p.addr, "chat-1", "media-server")
	for i, vip := range []string{"yes", "no", "yes", "yes"} {
		ms.ok(wire.RequestSubmit, map[string]any{"queue": "ext", "properties": map[string]string{"Vip": vip, "N": fmt.Sprint(i)}})
	}
	found := ms.ok(wire.RequestFindInteractions, map[string]any{"condition": "Vip = 'yes'"})
	list, _ := found["interactions"].([]any)
	nodes := map[string]bool{}
	for _, in := range list {
		id, _ := in.(map[string]any)["interactionId"].(string)
		nodes[id[:len("node-a")]] = true
	}
	if len(list) != 3 || !nodes["node-a"] || !nodes["node-b"] {
		t.Fatalf("found %v", found)
	}
	ms.fails(wire.RequestFindInteractions, map[string]any{"condition": "Vip = "}, wire.CodeBadRequest)
}

// A routing client's pull takes interactions from the nodes in turn until
// it has count; an agent not logged in is answered by the proxy itself.
func TestProxyPullAndAgentState(t *testing.T) {
	a, b := startNode(t, "node-a", nodeOptions(t, "")), startNode(t, "node-b", nodeOptions(t, ""))
	p := startProxy(t, a.node(), b.node())
	ms := register(t, p.addr, "chat-1", "media-server")
	for range 4 {
		ms.ok(wire.RequestSubmit, map[string]any{"queue": "ext"})
	}
	router := register(t, p.addr, "router", "routing")
	first := router.ok(wire.RequestPull, map[string]any{"queue": "ext", "count": 3})
	rest := router.ok(wire.RequestPull, map[string]any{"queue": "ext", "count": 5})
	n1, _ := first["interactions"].([]any)
	n2, _ := rest["interactions"].([]any)
	if len(n1) != 3 || len(n2) != 1 {
		t.Fatalf("pulled %d then %d, want 3 then 1", len(n1), len(n2))
	}
	router.fails(wire.RequestPull, map[string]any{"queue": "nope"}, wire.CodeNoSuchQueue)
	router.fails(wire.RequestPull, map[string]any{"queue": "ext", "count": "x"}, wire.CodeBadRequest)

	desk := register(t, p.addr, "desk/bob", "agent")
	desk.fails(wire.RequestAgentAvailable, map[string]any{}, wire.CodeNotLoggedIn)
	desk.fails(wire.RequestAgentLogout, map[string]any{}, wire.CodeNotLoggedIn)
	desk.fails(wire.RequestAgentLogin, map[string]any{"agentId": "bob", "password": "wrong"}, wire.CodeLoginFailed)
	desk.ok(wire.RequestAgentLogin, map[string]any{"agentId": "bob", "password": "bob"})
	desk.ok(wire.RequestAgentNotAvailable, map[string]any{"reason": "break"})
	desk.ok(wire.RequestAgentLogout, map[string]any{})
}

// Each node counts an agent's capacity on its own (docs/ixn.md,
// limitations): an agent of capacity 1 is invited by both nodes at once.
func TestProxyCapacityPerNode(t *testing.T) {
	opts := nodeOptions(t, "")
	opts.Agents["alice"].CapacityChat = 1
	a, b := startNode(t, "node-a", opts), startNode(t, "node-b", opts)
	p := startProxy(t, a.node(), b.node())
	ms := register(t, p.addr, "chat-1", "media-server")
	for range 2 {
		ms.ok(wire.RequestSubmit, map[string]any{"queue": "default"}) // round robin: one on each node
	}
	desk := register(t, p.addr, "desk/alice", "agent")
	desk.ok(wire.RequestAgentLogin, map[string]any{"agentId": "alice", "password": "alice"})
	first := desk.invited(nil)
	second := desk.invited(map[string]bool{first: true})
	if first[:len("node-a")] == second[:len("node-a")] {
		t.Fatalf("invitations %s and %s, want one of each node", first, second)
	}
}

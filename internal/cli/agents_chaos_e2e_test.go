package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/testenv"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// The agents of TestChaosAgentsKeepChatsAcrossSwitchover, each with
// deskCapacity chats at most, and the chats they hold.
const (
	deskChats    = 10
	deskCapacity = 3
)

var deskAgents = []string{"alice", "bob", "carol", "dave"}

// TestChaosAgentsKeepChatsAcrossSwitchover is the chaos test's agent side
// (issue 21): agents on the desktop bridge of a running deployment hold ten
// chats when the interaction server is killed with SIGKILL (on PostgreSQL
// the primary of a pair, whose backup takes over; on SQLite the only one,
// which up restarts), and then the busiest chat server. Every agent's page
// is told it was logged out, logs in again and is given back exactly the
// chats it held, without an invitation, with its load recomputed; the
// chats follow their chat server's death; nothing is lost or duplicated
// on either side.
func TestChaosAgentsKeepChatsAcrossSwitchover(t *testing.T) {
	testenv.NeedLong(t, "an interaction server and a chat server killed under ten chats")
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			db := backendDB(t, backend)
			c, ixnPrimary := startDeskCluster(t, db)
			runDeskChaos(t, c, db, ixnPrimary)
		})
	}
}

// startDeskCluster runs up (restarting what dies, as up does by default)
// on a deployment whose web API bridges deskAgents' desktops to the
// interaction servers: on PostgreSQL a pair, on SQLite one. It returns the
// interaction server that serves (of a pair, the one that took the lock).
func startDeskCluster(t *testing.T, db string) (*cluster, string) {
	t.Helper()
	dir := t.TempDir()
	ixns := []string{"ixn-1"}
	if db != "sqlite" {
		ixns = append(ixns, "ixn-2")
	}
	names := append(slices.Clone(ixns), "chat-1", "chat-2", "gms-1")
	c := newCluster(t, dir, names...)
	c.restart = true
	agents := ""
	for _, a := range deskAgents {
		agents += fmt.Sprintf("      agent:%s: {password-hash: %q, capacity-chat: %d}\n", a,
			ixn.HashPassword(a, "parley-test-salt-"+a, ixn.MinPasswordIterations), deskCapacity)
	}
	yaml := deploymentHead(c.dataDir, db)
	for _, name := range ixns {
		yaml += fmt.Sprintf("  %s:\n    type: interaction-server\n    listen: %q\n    database: main\n    options:\n%s", name, c.addrs[name], agents)
	}
	for _, name := range []string{"chat-1", "chat-2"} {
		yaml += fmt.Sprintf("  %s: {type: chat-server, listen: %q, database: main, connections: %s, options: {settings: {session-restoration-mode: simple, transcript-auto-save: 1}}}\n",
			name, c.addrs[name], yamlList(ixns))
	}
	yaml += fmt.Sprintf("  gms-1: {type: web-api, listen: %q, connections: %s, options: {settings: {request-timeout: 4}}}\n",
		c.addrs["gms-1"], yamlList(append([]string{"chat-1", "chat-2"}, ixns...)))
	c.launch(dir, yaml, names...)
	for _, name := range ixns {
		if resp, err := http.Get(c.url(name, "http", "/healthz")); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, name
			}
		}
	}
	t.Fatalf("none of %v serves", ixns)
	return nil, ""
}

func yamlList(names []string) string {
	b, _ := json.Marshal(names)
	return string(b)
}

// desk is one agent's desktop page on gms-1's bridge: it accepts every
// invitation and keeps what the bridge sends it.
type desk struct {
	c  *cluster
	id string

	mu      sync.Mutex
	conn    *wire.Conn
	gone    chan struct{} // closed when conn's bridge closed it
	events  []wire.Message
	invites map[string]int                           // invitations received, by interaction
	chats   map[string]*haChat                       // the chats it accepted
	accept  chan string                              // invitations to accept, in order
	known   func(id string) *haChat                  // the test's chat with an id
	seen    map[string]map[int]transcript.APIMessage // transcript events by chat and index
}

func newDesk(c *cluster, id string, known func(string) *haChat) *desk {
	return &desk{c: c, id: id, invites: map[string]int{}, chats: map[string]*haChat{},
		accept: make(chan string, 4*deskChats), known: known, seen: map[string]map[int]transcript.APIMessage{}}
}

// connect opens a page and logs in; it returns the login reply's chats.
func (d *desk) connect(ctx context.Context) ([]string, error) {
	conn, err := wire.Dial(ctx, d.c.url("gms-1", "ws", "/desktop/ws"), wire.Options{})
	if err != nil {
		return nil, err
	}
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		conn.Serve(context.WithoutCancel(ctx), wire.HandlerFunc(func(_ context.Context, _ *wire.Conn, m wire.Message) { d.event(m) }))
	}()
	var reply struct {
		Interactions []struct {
			InteractionID string `json:"interactionId"`
		} `json:"interactions"`
	}
	if _, err := conn.Request(ctx, wire.RequestAgentLogin, map[string]string{"agentId": d.id, "password": d.id}, &reply); err != nil {
		conn.Close()
		<-gone
		return nil, err
	}
	d.mu.Lock()
	d.conn, d.gone = conn, gone
	d.mu.Unlock()
	var ids []string
	for _, in := range reply.Interactions {
		ids = append(ids, in.InteractionID)
	}
	slices.Sort(ids)
	return ids, nil
}

// event keeps what the bridge sends; an invitation goes to the accepter.
func (d *desk) event(m wire.Message) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.events = append(d.events, m)
	switch m.Name {
	case wire.EventInvite:
		var inv struct {
			InteractionID string `json:"interactionId"`
		}
		if json.Unmarshal(m.Body, &inv) == nil {
			d.invites[inv.InteractionID]++
			d.accept <- inv.InteractionID
		}
	case wire.EventSessionInfo:
		var st struct {
			SessionID string
			Messages  []transcript.APIMessage
		}
		if json.Unmarshal(m.Body, &st) == nil {
			if d.seen[st.SessionID] == nil {
				d.seen[st.SessionID] = map[int]transcript.APIMessage{}
			}
			for _, msg := range st.Messages {
				d.seen[st.SessionID][msg.Index] = msg // a rejoin resends from the position the page had
			}
		}
	}
}

// accepting accepts each invitation until ctx ends.
func (d *desk) accepting(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case id := <-d.accept:
			if _, err := d.call(ctx, wire.RequestAccept, map[string]string{"interactionId": id}); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("%s accepts %s: %w", d.id, id, err)
			}
			d.mu.Lock()
			d.chats[id] = d.known(id)
			d.mu.Unlock()
		}
	}
}

func (d *desk) call(ctx context.Context, name string, body any) (json.RawMessage, error) {
	d.mu.Lock()
	conn := d.conn
	d.mu.Unlock()
	var reply json.RawMessage
	_, err := conn.Request(ctx, name, body, &reply)
	return reply, err
}

// held returns the ids of the chats the agent accepted.
func (d *desk) held() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Sorted(maps.Keys(d.chats))
}

// customerTexts returns the customer's messages the page showed in chat id.
func (d *desk) customerTexts(id string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, i := range slices.Sorted(maps.Keys(d.seen[id])) {
		if m := d.seen[id][i]; m.Type == transcript.Message && m.From != nil && m.From.Type == transcript.Client {
			out = append(out, m.Text)
		}
	}
	return out
}

// say sends text into chat ch and returns the text acknowledged: it
// retries, each try a message of its own, while the bridge says the chat
// is moving.
func (d *desk) say(ctx context.Context, ch *haChat, text string) (string, error) {
	for try := 1; ; try++ {
		text := fmt.Sprintf("%s (try %d)", text, try)
		at := ch.begin("agent", text)
		_, err := d.call(ctx, wire.RequestMessage, map[string]string{"interactionId": ch.id, "text": text})
		if err == nil {
			ch.finish(at, "desk")
			return text, nil
		}
		ch.finish(at, "")
		if we, ok := errors.AsType[*wire.Error](err); !ok || we.Code != wire.CodeUnavailable || ctx.Err() != nil {
			return "", fmt.Errorf("%s says %q in %s: %w", d.id, text, ch.id, err)
		}
		wait(ctx, 100*time.Millisecond) // a page's retry pace
	}
}

// customerSays sends text as ch's customer over REST and returns the text
// acknowledged: after a chat server's death it retries, each try a message
// of its own, as a customer sends again, until the chat is served again.
func customerSays(ctx context.Context, c *cluster, ch *haChat, text string) (string, error) {
	for try := 1; ; try++ {
		text := fmt.Sprintf("%s (try %d)", text, try)
		err := c.say(ch, text)
		if err == nil {
			return text, nil
		}
		if !wait(ctx, 100*time.Millisecond) { // a client's retry pace
			return "", fmt.Errorf("chat %s: %w", ch.id, err)
		}
		c.poll(ch) // the reply's alias says where the chat went
	}
}

// runDeskChaos opens the chats, lets the agents take them, kills the
// interaction server that serves and then the busiest chat server, and
// checks that every agent kept its chats and every chat went on.
func runDeskChaos(t *testing.T, c *cluster, db, ixnPrimary string) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var mu sync.Mutex
	byID := map[string]*haChat{}
	known := func(id string) *haChat {
		mu.Lock()
		defer mu.Unlock()
		return byID[id]
	}
	desks := make([]*desk, len(deskAgents))
	accepters := make(chan error, len(deskAgents))
	for i, a := range deskAgents {
		desks[i] = newDesk(c, a, known)
		if _, err := desks[i].connect(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := desks[i].call(ctx, wire.RequestAgentAvailable, nil); err != nil {
			t.Fatal(err)
		}
		go func() { accepters <- desks[i].accepting(ctx) }()
	}
	defer func() {
		cancel()
		for _, d := range desks {
			d.call(context.Background(), wire.RequestAgentLogout, nil)
		}
		for range desks {
			if err := <-accepters; err != nil {
				t.Error(err)
			}
		}
	}()
	// The chats are registered before their invitation can be accepted.
	mu.Lock()
	for i := range deskChats {
		env, err := c.rest("", map[string][]string{"nickname": {fmt.Sprintf("customer %d", i)}})
		if err != nil || env.StatusCode != 0 {
			mu.Unlock()
			t.Fatalf("request chat %d: %+v %v", i, env, err)
		}
		byID[env.ChatID] = &haChat{id: env.ChatID, user: env.UserID, key: env.SecureKey, alias: env.Alias, home: env.Alias, position: 1}
	}
	mu.Unlock()
	settle.Eventually(t, 30*time.Second, "every chat accepted by an agent", func() bool {
		n := 0
		for _, d := range desks {
			n += len(d.held())
		}
		return n == deskChats
	})
	talk(ctx, t, c, desks, "before")

	c.signal(ixnPrimary, syscall.SIGKILL)
	for _, d := range desks {
		checkGivenBack(ctx, t, d)
	}
	checkLoads(ctx, t, desks)
	talk(ctx, t, c, desks, "after the interaction server")

	var all []*haChat
	for _, d := range desks {
		for _, id := range d.held() {
			all = append(all, d.chats[id])
		}
	}
	victim := busiest(all)
	c.signal(victim, syscall.SIGKILL)
	t.Logf("%s killed", victim)
	talk(ctx, t, c, desks, "after "+victim)

	for _, d := range desks {
		for _, id := range d.held() {
			ch := d.chats[id]
			if err := c.catchUp(ctx, ch); err != nil {
				t.Fatal(err)
			}
			ch.mu.Lock()
			ch.ending = true
			ch.mu.Unlock()
			if _, err := d.call(ctx, wire.RequestReleaseParty, map[string]string{"interactionId": id, "afterAction": "ForceClose"}); err != nil {
				t.Fatalf("%s ends %s: %v", d.id, id, err)
			}
		}
	}
	checkTranscripts(t, db, c.dataDir, all)
}

// talk has every chat's customer and agent say one message each, and
// waits until each has seen the other's, once.
func talk(ctx context.Context, t *testing.T, c *cluster, desks []*desk, when string) {
	t.Helper()
	for _, d := range desks {
		for _, id := range d.held() {
			ch := d.chats[id]
			said, err := customerSays(ctx, c, ch, "customer "+when)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.say(ctx, ch, "agent "+when); err != nil {
				t.Fatal(err)
			}
			settle.Eventually(t, 20*time.Second, fmt.Sprintf("%s sees %q in chat %s", d.id, said, id), func() bool {
				return countOf(d.customerTexts(id), said) == 1
			})
		}
	}
	for _, d := range desks {
		for _, id := range d.held() {
			if err := c.catchUp(ctx, d.chats[id]); err != nil {
				t.Fatalf("chat %s %s: %v", id, when, err)
			}
		}
	}
}

// checkGivenBack waits until d's page is told it was logged out, logs in
// again (the interaction servers take a moment to serve again), and checks
// that the login gives back exactly the chats it held, with no invitation
// for them since.
func checkGivenBack(ctx context.Context, t *testing.T, d *desk) {
	t.Helper()
	d.mu.Lock()
	gone := d.gone
	invites := maps.Clone(d.invites)
	d.mu.Unlock()
	select {
	case <-gone:
	case <-ctx.Done():
		t.Fatalf("%s's page was never told the interaction server went away", d.id)
	}
	var back []string
	settle.Eventually(t, 60*time.Second, d.id+" logged in again", func() bool {
		ids, err := d.connect(ctx)
		back = ids
		return err == nil
	})
	t.Logf("%s logged in again and was given back %v", d.id, back)
	if held := d.held(); !slices.Equal(back, held) {
		t.Errorf("%s was given back %v, held %v", d.id, back, held)
	}
	for _, id := range back {
		settle.Eventually(t, 20*time.Second, d.id+" shown chat "+id+" again", func() bool {
			return countOf(d.customerTexts(id), "customer before (try 1)") == 1
		})
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !maps.Equal(invites, d.invites) {
		t.Errorf("%s was invited again after the switchover: %v, before %v", d.id, d.invites, invites)
	}
}

// checkLoads checks each agent's load: the chats it holds, no more.
func checkLoads(ctx context.Context, t *testing.T, desks []*desk) {
	t.Helper()
	var ov ixn.Overview
	reply, err := desks[0].call(ctx, wire.RequestGetOverview, nil)
	if err == nil {
		err = json.Unmarshal(reply, &ov)
	}
	if err != nil {
		t.Fatal(err)
	}
	loads := map[string]int{}
	for _, a := range ov.Agents {
		loads[a.ID] = a.Load
	}
	for _, d := range desks {
		if loads[d.id] != len(d.held()) {
			t.Errorf("%s's load is %d after the switchover, it holds %d chats", d.id, loads[d.id], len(d.held()))
		}
	}
}

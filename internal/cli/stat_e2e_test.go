package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// statFigure is one statistic the scripted day checks, with the value it
// must end with.
type statFigure struct {
	ref        int64
	objectType string
	objectID   string
	statType   string
	want       float64
}

// dayFigures are the figures of the scripted day: two chats, one handled
// after a transfer from alice to bob, one abandoned in the queue.
var dayFigures = []statFigure{
	{1, "Queue", "default", "ChatsEntered", 2},
	{2, "Queue", "default", "ChatsAbandoned", 1},
	{3, "Queue", "default", "ChatsHandled", 1},
	{4, "Queue", "default", "ServiceLevel", 100},
	{5, "Agent", "alice", "ChatsTransferred", 1},
	{6, "Agent", "alice", "ChatsHandled", 1},
	{7, "Agent", "bob", "ChatsHandled", 1},
	{8, "Tenant", "Environment", "AgentsReady", 2},
	{9, "Queue", "default", "ChatsInQueue", 0},
}

// TestStatServerEndToEnd runs the real binary with an interaction server
// and a stat server pair: a scripted day of agents and chats gives the
// expected figures on the primary; after kill -9 of the primary the backup
// has every historical aggregate (those a client opened on the primary
// reached it by replication); the primary, restarted, gets them back, and
// so does the backup after its own kill -9; a short cut of the pair's link
// replicates only the statistic opened meanwhile (the /metrics counters).
func TestStatServerEndToEnd(t *testing.T) {
	c := startStatCluster(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	c.wallboardRedirect()
	if resp, err := http.Get(c.url("stat-1", "http", "/wire/stat-ha")); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("stat-1 serves the HA link on its listen address, not only on its ha port: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	primary := c.statClient(ctx, "stat-1")
	for _, f := range dayFigures {
		primary.open(f)
	}
	c.scriptedDay(ctx)
	primary.expect(dayFigures)
	c.replicated("stat-1") // the seed's window: what is not yet pushed dies with the primary

	c.signal("stat-1", syscall.SIGKILL)
	backup := c.statClient(ctx, "stat-2")
	for _, f := range dayFigures {
		backup.open(f)
	}
	backup.expect(dayFigures)

	restarted := c.statClient(ctx, "stat-1") // up restarts it
	for _, f := range dayFigures {
		restarted.open(f)
	}
	restarted.expect(dayFigures)
	c.replicated("stat-2")

	c.signal("stat-2", syscall.SIGKILL)
	again := c.statClient(ctx, "stat-2")
	for _, f := range dayFigures {
		again.open(f)
	}
	again.expect(dayFigures)
	c.cutPairLink(ctx, restarted)
	c.ixnRestart(ctx, restarted, again)
}

// ixnRestart kills the interaction server (up restarts it): both stat
// servers resume the stream from their position and learn from its
// overview that it logged every agent out; a chat submitted after counts
// once.
func (c *cluster) ixnRestart(ctx context.Context, servers ...*statClient) {
	c.signal("ixn-1", syscall.SIGKILL)
	loggedOut := []statFigure{{1, "Queue", "default", "ChatsEntered", 2}, {8, "Tenant", "Environment", "AgentsReady", 0}}
	for _, s := range servers {
		s.expect(loggedOut)
	}
	media := peerAs(c.t, c.dataDir, "chat-1").dial(ctx, c.t, c.url("ixn-1", "ws", "/wire/ixn"), "ixn-1", nil)
	request(ctx, c.t, media, wire.RequestRegisterClient, map[string]any{"clientName": "chat-1", "clientType": "media-server"}, nil)
	request(ctx, c.t, media, wire.RequestSubmit, map[string]any{"interactionId": "c3", "queue": "default"}, nil)
	for _, s := range servers {
		s.expect([]statFigure{{1, "Queue", "default", "ChatsEntered", 3}, {9, "Queue", "default", "ChatsInQueue", 1}})
	}
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// wallboardRedirect checks that the web API leads /wallboard/ to the
// primary stat server's.
func (c *cluster) wallboardRedirect() {
	c.t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(c.url("gms-1", "http", "/wallboard/"))
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	if want := c.url("stat-1", "http", "/wallboard/"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
		c.t.Errorf("web API /wallboard/ = %d %q; want 302 to %s", resp.StatusCode, resp.Header.Get("Location"), want)
	}
}

// startStatCluster runs `parley up` (restarting killed children) with an
// interaction server (agents alice and bob, capacity 1, password "alice"),
// a chat server as its media server, a stat server pair following it and a
// web API that is their client.
func startStatCluster(t *testing.T) *cluster {
	t.Helper()
	dir := t.TempDir()
	c := newCluster(t, dir, "ixn-1", "chat-1", "stat-1", "stat-2", "gms-1")
	c.restart = true
	hash := "pbkdf2-sha256$1000$cGFybGV5LXRlc3Qtc2FsdC1hbGljZQ$eAr0mFoiHQh9dyB/Sk/MIr51rvCiPeCfzAtr3cGQ0fg" // password "alice"
	ha := "{addp-timeout: 1, addp-remote-timeout: 1, connect-timeout: 1, chunk-timeout: 1, session-expiration-period: 600}"
	haPrimary := strings.Replace(ha, "{", fmt.Sprintf("{listen: %q, ", freeAddr(t)), 1) // stat-1's ha port
	yaml := fmt.Sprintf(`data-dir: %s
databases:
  main: {driver: sqlite, dsn: parley.db}
applications:
  ixn-1:
    type: interaction-server
    listen: "%s"
    database: main
    options:
      agent:alice: {password-hash: "%s", capacity-chat: 1}
      agent:bob: {password-hash: "%s", capacity-chat: 1}
  chat-1: {type: chat-server, listen: "%s", database: main, connections: [ixn-1]}
  stat-1: {type: stat-server, listen: "%s", connections: [ixn-1], options: {ha: %s, statserver: {debug-level: HA}}}
  stat-2: {type: stat-server, listen: "%s", connections: [ixn-1, stat-1], options: {ha: %s, statserver: {debug-level: HA}}}
  gms-1: {type: web-api, listen: "%s", connections: [chat-1, ixn-1, stat-1, stat-2]}
`, c.dataDir, c.addrs["ixn-1"], hash, hash, c.addrs["chat-1"], c.addrs["stat-1"], haPrimary, c.addrs["stat-2"], ha, c.addrs["gms-1"])
	c.launch(dir, yaml, "ixn-1", "chat-1", "stat-1", "stat-2", "gms-1")
	return c
}

// cutPairLink stops the backup (SIGSTOP) until the primary cuts the link
// on its keep-alive, opens a statistic on the primary meanwhile, resumes
// the backup, and checks that the session was restored and that only that
// statistic crossed.
func (c *cluster) cutPairLink(ctx context.Context, primary *statClient) {
	t := c.t
	t.Helper()
	sentBefore := c.metric("stat-1", "parley_stat_ha_statistics_sent_total")
	restoredBefore := c.metric("stat-1", `parley_stat_ha_sessions_total{restored="true"}`)
	cut := `msg="HA: link cut" app=stat-1`
	cuts := strings.Count(c.out.String(), cut)
	c.signal("stat-2", syscall.SIGSTOP)
	defer c.signal("stat-2", syscall.SIGCONT)
	for deadline := time.Now().Add(30 * time.Second); strings.Count(c.out.String(), cut) == cuts; {
		if time.Now().After(deadline) {
			t.Fatal("the primary did not cut the link to the stopped backup")
		}
		time.Sleep(50 * time.Millisecond)
	}
	primary.open(statFigure{ref: 99, objectType: "Queue", objectID: "default", statType: "AverageWaitTime"})
	c.signal("stat-2", syscall.SIGCONT)
	deadline := time.Now().Add(30 * time.Second)
	for c.metric("stat-1", `parley_stat_ha_sessions_total{restored="true"}`) <= restoredBefore ||
		c.metric("stat-1", "parley_stat_ha_statistics_sent_total") <= sentBefore {
		if time.Now().After(deadline) {
			t.Fatal("the pair's session was not restored after the cut")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if sent := c.metric("stat-1", "parley_stat_ha_statistics_sent_total") - sentBefore; sent != 1 {
		t.Errorf("statistics replicated after the restored session = %v; want 1 (the one opened during the cut)", sent)
	}
}

// replicated waits until stat server name has pushed every statistic it
// opened to its peer.
func (c *cluster) replicated(name string) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for c.metric(name, "parley_stat_ha_pending") != 0 {
		if time.Now().After(deadline) {
			c.t.Fatalf("%s did not replicate its statistics", name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// metric reads one sample of application name's /metrics, 0 when absent.
func (c *cluster) metric(name, sample string) float64 {
	c.t.Helper()
	resp, err := c.web().adminGet(c.url(name, "http", "/metrics"))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), sample+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// scriptedDay plays the day on the interaction server: alice and bob log
// in, bob not ready; chat c1 goes to alice; c2 waits (alice is full) and
// is abandoned; bob becomes ready, alice transfers c1 to him, he takes it
// and ends it.
func (c *cluster) scriptedDay(ctx context.Context) {
	t := c.t
	agent := func(id string) (*wire.Conn, chan wire.Message) {
		events := make(chan wire.Message, 64)
		conn := dialEvents(ctx, t, c.web(), c.url("ixn-1", "ws", "/wire/ixn"), "ixn-1", events)
		request(ctx, t, conn, wire.RequestRegisterClient, map[string]any{"clientName": "gms-1/" + id, "clientType": "agent"}, nil)
		request(ctx, t, conn, wire.RequestAgentLogin, map[string]any{"agentId": id, "password": "alice", "media": map[string]int{"chat": 1}}, nil)
		return conn, events
	}
	alice, aliceEvents := agent("alice")
	bob, bobEvents := agent("bob")
	request(ctx, t, bob, wire.RequestAgentNotAvailable, map[string]any{"reason": "lunch"}, nil)
	media := peerAs(t, c.dataDir, "chat-1").dial(ctx, t, c.url("ixn-1", "ws", "/wire/ixn"), "ixn-1", nil)
	request(ctx, t, media, wire.RequestRegisterClient, map[string]any{"clientName": "chat-1", "clientType": "media-server"}, nil)

	request(ctx, t, media, wire.RequestSubmit, map[string]any{"interactionId": "c1", "queue": "default"}, nil)
	waitMessage(t, aliceEvents, wire.EventInvite)
	request(ctx, t, alice, wire.RequestAccept, map[string]any{"interactionId": "c1"}, nil)
	request(ctx, t, media, wire.RequestSubmit, map[string]any{"interactionId": "c2", "queue": "default"}, nil)
	request(ctx, t, media, wire.RequestStopProcessing, map[string]any{"interactionId": "c2", "reason": "customer left"}, nil)
	request(ctx, t, bob, wire.RequestAgentAvailable, map[string]any{}, nil)
	request(ctx, t, alice, wire.RequestTransfer, map[string]any{"interactionId": "c1", "agentId": "bob"}, nil)
	waitMessage(t, bobEvents, wire.EventInvite)
	request(ctx, t, bob, wire.RequestAccept, map[string]any{"interactionId": "c1"}, nil)
	request(ctx, t, bob, wire.RequestStopProcessing, map[string]any{"interactionId": "c1", "reason": "done"}, nil)
}

// statClient is a client of one stat server, as the web API.
type statClient struct {
	t    *testing.T
	ctx  context.Context
	conn *wire.Conn
	name string
}

// statClient connects to stat server name, retrying while it (re)starts.
func (c *cluster) statClient(ctx context.Context, name string) *statClient {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := c.web().tryDial(ctx, c.url(name, "ws", "/wire/stat"), name, nil)
		if err == nil {
			c.t.Cleanup(func() { conn.Close(); <-conn.Done() })
			return &statClient{t: c.t, ctx: ctx, conn: conn, name: name}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("stat server %s: %v", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *statClient) open(f statFigure) {
	s.t.Helper()
	body := map[string]any{"referenceId": f.ref, "object": map[string]string{"objectId": f.objectID, "objectType": f.objectType},
		"statisticType": f.statType, "timeRange": "ServiceLevel", "notification": map[string]any{"mode": "NoNotification"}}
	request(s.ctx, s.t, s.conn, wire.RequestOpenStatistic, body, nil)
}

// expect polls every figure until it has its value.
func (s *statClient) expect(figures []statFigure) {
	s.t.Helper()
	for _, f := range figures {
		deadline := time.Now().Add(30 * time.Second)
		for {
			var info struct{ Value float64 }
			_, err := s.conn.Request(s.ctx, wire.RequestGetStatistic, map[string]int64{"referenceId": f.ref}, &info)
			var we *wire.Error
			if err != nil && !errors.As(err, &we) {
				s.t.Fatalf("%s: get %s %s %s: %v", s.name, f.objectType, f.objectID, f.statType, err)
			}
			if err == nil && info.Value == f.want {
				break
			}
			if time.Now().After(deadline) {
				s.t.Fatalf("%s: %s %s %s = %v (%v); want %v", s.name, f.objectType, f.objectID, f.statType, info.Value, err, f.want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

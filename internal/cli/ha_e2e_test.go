package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/store/postgres"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/wire"
)

// cluster is `parley up` running two chat servers and a web API.
type cluster struct {
	t       *testing.T
	dataDir string
	addrs   map[string]string
	out     *syncBuffer
	up      *exec.Cmd
	tls     *tls.Config    // trusts the cluster's CA when it serves TLS
	held    *heldListeners // the applications' listeners, until up is handed them
	restart bool           // up restarts a failed child (no --no-restart); see launch
}

// newCluster returns a cluster of the applications names, with data-dir
// under dir and a listener bound for each, whose addresses the deployment
// file names: launch hands them to up, which hands each to its child.
func newCluster(t *testing.T, dir string, names ...string) *cluster {
	held, addrs := holdListeners(t, names...)
	return &cluster{t: t, dataDir: filepath.Join(dir, "data"), out: &syncBuffer{}, addrs: addrs, held: held}
}

// startCluster writes a deployment on database db ("sqlite" or a
// PostgreSQL DSN), with chatOptions in both chat servers' [settings] and
// webSettings in the web API's, and runs the real binary's `parley up` on it.
func startCluster(t *testing.T, db, chatOptions string, webSettings ...string) *cluster {
	t.Helper()
	return startClusterTLS(t, false, db, chatOptions, webSettings...)
}

// startClusterTLS is startCluster, with TLS on every application when
// withTLS: certificates made as `parley certs` makes them, the test trusting
// the deployment's CA.
func startClusterTLS(t *testing.T, withTLS bool, db, chatOptions string, webSettings ...string) *cluster {
	t.Helper()
	dir := t.TempDir()
	c := newCluster(t, dir, "chat-1", "chat-2", "gms-1")
	yaml := fmt.Sprintf(`data-dir: %s
databases:
  main: %s
applications:
  chat-1: {type: chat-server, listen: "%s", database: main, options: {settings: {%s}}}
  chat-2: {type: chat-server, listen: "%s", database: main, options: {settings: {%s}}}
  gms-1:
    type: web-api
    listen: "%s"
    connections: [chat-1, chat-2]
    options: {settings: {request-timeout: 8, status-poll-interval: 1%s}, limits: {new-chats-per-address: 0, max-connections-per-address: 0}, log: {verbose: debug}}
`, c.dataDir, databaseYAML(db), c.addrs["chat-1"], chatOptions, c.addrs["chat-2"], chatOptions, c.addrs["gms-1"], strings.Join(append([]string{""}, webSettings...), ", "))
	if withTLS {
		yaml = c.withTLS(yaml)
	}
	c.launch(dir, yaml, "chat-1", "chat-2", "gms-1")
	return c
}

// databaseYAML is the deployment's entry for database db: "sqlite" (a file
// under data-dir) or a PostgreSQL DSN.
func databaseYAML(db string) string {
	if db == "sqlite" {
		return "{driver: sqlite, dsn: parley.db}"
	}
	return fmt.Sprintf("{driver: postgres, dsn: %q}", db)
}

// backendDB returns the database of a test's backend: "sqlite" for the
// SQLite ones, a fresh PostgreSQL schema's DSN for "postgres".
func backendDB(t *testing.T, backend string) string {
	if backend == "postgres" {
		return storetest.PostgresDSN(t)
	}
	return "sqlite"
}

// withTLS makes the certificates of the deployment in yaml and returns it
// with the keys that turn TLS on everywhere.
func (c *cluster) withTLS(yaml string) string {
	c.t.Helper()
	d, err := config.Parse("cluster.yaml", []byte(yaml))
	if err != nil {
		c.t.Fatal(err)
	}
	files, err := writeCerts(d, filepath.Join(c.dataDir, "certs"), 1)
	if err != nil {
		c.t.Fatal(err)
	}
	pem, err := os.ReadFile(files.CA)
	if err != nil {
		c.t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	c.tls = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	for _, name := range d.Names() {
		yaml = strings.Replace(yaml, "  "+name+": {", fmt.Sprintf("  %s: {tls: {cert-file: certs/%s.pem, key-file: certs/%s-key.pem}, ", name, name, name), 1)
		yaml = strings.Replace(yaml, "  "+name+":\n", fmt.Sprintf("  %s:\n    tls: {cert-file: certs/%s.pem, key-file: certs/%s-key.pem}\n", name, name, name), 1)
	}
	return "trusted-ca-file: certs/ca.pem\n" + yaml
}

// launch writes the deployment yaml into dir, runs the real binary's
// `parley up` on it until the test ends, handing it the cluster's
// listeners, and waits until the applications names are ready.
//
// Up runs with --no-restart unless c.restart: the tests that kill a server
// on purpose (TestFailoverEndToEnd, TestAgentFollowsChatEndToEnd,
// TestWebAPIKilledEndToEnd, the browser failovers) assert that its chats
// and clients go to the survivor, which a restart of the victim under the
// same name would race with. The others kill nothing, or stop a server
// with SIGTERM (TestStoppedChatServerHandsChatsOver), whose exit status 0
// up does not restart either way, or SIGSTOP it (partitionOwner), which
// up does not see. TestUpRestartsChatServer runs with restarts.
func (c *cluster) launch(dir, yaml string, names ...string) {
	t := c.t
	t.Helper()
	file := filepath.Join(dir, "parley.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"up", "--config", file}
	if !c.restart {
		args = append(args, "--no-restart")
	}
	c.up = exec.Command(buildParley(t), args...)
	c.up.Stdout, c.up.Stderr = c.out, c.out
	c.held.start(c.up)
	exited := make(chan struct{})
	go func() { c.up.Wait(); close(exited) }()
	t.Cleanup(func() {
		c.up.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			c.up.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("parley up output:\n%s", c.out.String())
		}
	})
	for _, name := range names {
		waitFor(t, c.out, ") ready on "+c.url(name, "http", ""))
		// up copies a child's output as it comes, so its own "ready" line
		// may be printed before the child's "starting" line arrives.
		inherited := regexp.MustCompile(`msg=starting app=` + regexp.QuoteMeta(name) + ` .* inherited=true\n`)
		if !settle.Poll(5*time.Second, func() bool { return inherited.MatchString(c.out.String()) }) {
			t.Errorf("%s does not serve on the listener the test handed up", name)
		}
	}
}

// signal sends sig to application name's process, by its pid file.
func (c *cluster) signal(name string, sig syscall.Signal) {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dataDir, "run", name+".pid"))
	if err != nil {
		c.t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		c.t.Fatal(err)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		c.t.Fatal(err)
	}
}

// envelope is the part of a Chat API v2 reply the tests read.
type envelope struct {
	StatusCode   int      `json:"statusCode"`
	Alias        string   `json:"alias"`
	ChatEnded    bool     `json:"chatEnded"`
	ChatID       string   `json:"chatId"`
	UserID       string   `json:"userId"`
	SecureKey    string   `json:"secureKey"`
	NextPosition int      `json:"nextPosition"`
	Messages     []pushed `json:"messages"`
}

// rest posts one Chat API v2 call to the web API.
func (c *cluster) rest(path string, form url.Values) (envelope, error) {
	resp, err := c.web().client().PostForm(c.url("gms-1", "http", "/genesys/2/chat/customer-support"+path), form)
	if err != nil {
		return envelope{}, err
	}
	defer resp.Body.Close()
	var env envelope
	return env, json.NewDecoder(resp.Body).Decode(&env)
}

// nameOf returns the application listening on addr.
func (c *cluster) nameOf(addr string) string {
	for name, a := range c.addrs {
		if a == addr {
			return name
		}
	}
	return addr
}

// haChat is one chat of the end-to-end tests, as its customer and its agent
// know it. The customer's fields are used by one goroutine at a time, and so
// are the agent's; mu guards what both sides write.
type haChat struct {
	id, user, key string
	home          string // the chat server that created the chat

	// The customer's side.
	alias         string
	position      int
	seen          []pushed  // every event the customer's polls returned
	ended         bool      // a poll answered chatEnded
	failedPolls   int       // polls answered with an error
	back          time.Time // its first success on the new server after a kill
	restoredAfter time.Duration

	// The agent's side.
	agentID  string
	agentKey string // its party's secure key, for a rejoin
	agent    *wire.Conn
	agentAt  string    // the chat server the agent is joined on
	rejoined time.Time // when it rejoined after a kill

	mu     sync.Mutex // guards sent, pushed and ending
	sent   []attempt  // every message sent, in the order sending began
	pushed []pushed   // events pushed to the agent until it ends the chat
	ending bool
}

// attempt is one message sent by the customer or the agent. Each attempt
// has a text of its own, so that a message sent again after a failure is
// told apart from the one in doubt.
type attempt struct {
	from, text  string // from is "customer" or "agent"
	start, done time.Time
	acked       bool   // the sender was told it succeeded
	by          string // the chat server that acknowledged it
}

// begin records that from starts sending text; it returns the attempt's
// index for finish.
func (ch *haChat) begin(from, text string) int {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.sent = append(ch.sent, attempt{from: from, text: text, start: time.Now()})
	return len(ch.sent) - 1
}

// finish records the outcome of attempt i: acknowledged by chat server by,
// or not acknowledged when by is empty.
func (ch *haChat) finish(i int, by string) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	a := &ch.sent[i]
	a.done, a.acked, a.by = time.Now(), by != "", by
}

func (ch *haChat) attempts() []attempt {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return slices.Clone(ch.sent)
}

// pending counts the messages being sent.
func (ch *haChat) pending() int {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	n := 0
	for _, a := range ch.sent {
		if a.done.IsZero() {
			n++
		}
	}
	return n
}

// acked counts from's messages acknowledged by chat server by ("" for any)
// whose sending began after since.
func (ch *haChat) acked(from string, since time.Time, by string) int {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	n := 0
	for _, a := range ch.sent {
		if a.from == from && a.acked && a.start.After(since) && (by == "" || a.by == by) {
			n++
		}
	}
	return n
}

// customerTexts returns the texts of the messages the customer saw.
func (ch *haChat) customerTexts() []string {
	var out []string
	for _, e := range ch.seen {
		if e.Type == "Message" {
			out = append(out, e.Text)
		}
	}
	return out
}

// say sends text as the customer over REST and records the attempt; the
// reply's alias, even an error's, says where the chat now is.
func (c *cluster) say(ch *haChat, text string) error {
	i := ch.begin("customer", text)
	env, err := c.rest("/"+ch.id+"/send", ch.form("message", text))
	if err == nil && env.Alias != "" {
		ch.alias = env.Alias
	}
	if err != nil || env.StatusCode != 0 {
		ch.finish(i, "")
		return fmt.Errorf("send %q: %+v %v", text, env, err)
	}
	ch.finish(i, ch.alias)
	return nil
}

// reply sends text as the agent over the wire and records the attempt.
func (ch *haChat) reply(ctx context.Context, text string) error {
	i := ch.begin("agent", text)
	_, err := ch.agent.Request(ctx, wire.RequestMessage, map[string]any{"sessionId": ch.id, "userId": ch.agentID, "text": text}, nil)
	if err != nil {
		ch.finish(i, "")
		return fmt.Errorf("agent send %q: %w", text, err)
	}
	ch.finish(i, ch.agentAt)
	return nil
}

func TestFailoverEndToEnd(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres", "sqlite-tls"} {
		t.Run(backend, func(t *testing.T) {
			db := "sqlite"
			if backend == "postgres" {
				db = storetest.PostgresDSN(t)
			}
			withTLS := backend == "sqlite-tls" // TLS and authentication on every link, the web API's included
			runFailover(t, startClusterTLS(t, withTLS, db, "session-restoration-mode: simple, transcript-auto-save: 1"), db)
		})
	}
}

// Traffic of the failover test: each side of each chat has preKill messages
// acknowledged before the kill and postKill acknowledged by the survivor
// after it, sending one every pace meanwhile.
const (
	preKill     = 2
	postKill    = 2
	minInFlight = 3 // messages of the victim's chats sent and not yet answered when it is killed
	pace        = 200 * time.Millisecond
	// followPace spaces an agent desktop's look-ups of its chat's new
	// location, each a store read on the survivor while it restores.
	followPace = 500 * time.Millisecond
)

// failover is the kill in the middle of the failover test's traffic.
type failover struct {
	victim, survivor string
	killed           chan struct{} // closed just before the kill is sent, once at is set
	at               time.Time     // just before the kill
}

func (f *failover) happened() bool {
	select {
	case <-f.killed:
		return true
	default:
		return false
	}
}

// settled reports whether the kill happened and from's side of ch has had
// postKill messages acknowledged by the survivor since.
func (f *failover) settled(ch *haChat, from string) bool {
	return f.happened() && ch.acked(from, f.at, f.survivor) >= postKill
}

// runFailover kills the chat server that owns most of 50 chats while every
// chat's customer and agent are sending; each chat goes on on the survivor.
func runFailover(t *testing.T, c *cluster, db string) {
	runFault(t, c, db, 2*time.Second, func(victim string) { c.signal(victim, syscall.SIGKILL) })
}

// runFault is runFailover with fault instead of the kill: whatever it does
// to the victim, each chat must go on on the survivor, every acknowledged
// message kept and none duplicated, restored within p99 (a generous bound:
// the figures are in the log).
func runFault(t *testing.T, c *cluster, db string, p99 time.Duration, fault func(victim string)) {
	const chats = 50
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	all := make([]*haChat, chats)
	parallel(t, chats, func(i int) (err error) {
		all[i], err = c.openChat(ctx, i)
		return err
	})
	f := &failover{victim: busiest(all), killed: make(chan struct{})}
	f.survivor = map[string]string{"chat-1": "chat-2", "chat-2": "chat-1"}[f.victim]

	var trafficErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		trafficErr = gather(chats, func(i int) error { return c.converse(ctx, all[i], i, f) })
	}()
	defer func() { cancel(); <-done }()
	// The kill lands while every chat is talking and some of the victim's
	// messages are in flight: f.at is taken before the look, so that those
	// began before the kill and end after it.
	ready := func() bool {
		at, inFlight := time.Now(), 0
		for _, ch := range all {
			if ch.acked("customer", time.Time{}, "") < preKill || ch.acked("agent", time.Time{}, "") < preKill {
				return false
			}
			if ch.home == f.victim {
				inFlight += ch.pending()
			}
		}
		f.at = at
		return inFlight >= minInFlight
	}
	if !settle.Poll(time.Minute, func() bool { return isClosed(done) || ready() }) || isClosed(done) {
		cancel()
		<-done
		t.Fatalf("traffic before the kill: %v", trafficErr)
	}
	close(f.killed)
	fault(f.victim)
	<-done
	if trafficErr != nil {
		t.Fatal(trafficErr)
	}
	checkTranscripts(t, db, c.dataDir, all)
	inFlight, failed := 0, 0
	for i, ch := range all {
		for _, a := range ch.attempts() {
			if a.start.Before(f.at) && a.done.After(f.at) {
				inFlight++
				if !a.acked {
					failed++
				}
			}
		}
		for _, from := range []string{"customer", "agent"} {
			if n := ch.acked(from, f.at, f.survivor); n < postKill {
				t.Errorf("chat %d: %d %s messages acknowledged by %s after the kill, want %d", i, n, from, f.survivor, postKill)
			}
		}
		if moved := ch.home == f.victim; moved != (ch.restoredAfter > 0) {
			t.Errorf("chat %d on %s: restored after %v", i, ch.home, ch.restoredAfter)
		}
	}
	t.Logf("%d messages were being sent as the kill was sent, %d of them not acknowledged", inFlight, failed)
	reportRestoreTimes(t, all, f.victim, p99)
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// converse is one chat across the kill: its customer and its agent send
// concurrently until each has had postKill messages acknowledged by the
// survivor after the kill; then the customer catches up and the agent ends
// the chat.
func (c *cluster) converse(ctx context.Context, ch *haChat, i int, f *failover) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	for _, side := range []func(context.Context, *haChat, int, *failover) error{c.customerTalks, c.agentTalks} {
		go func() {
			err := side(ctx, ch, i, f)
			if err != nil {
				cancel() // the other side would wait for this one in vain
			}
			errs <- err
		}()
	}
	if err := errors.Join(<-errs, <-errs); err != nil {
		return err
	}
	if err := c.catchUp(ctx, ch); err != nil {
		return err
	}
	return c.end(ctx, ch)
}

// customerTalks is the customer of ch sending and polling at a client's
// pace. A request may fail only in the chat's failover window: its chat
// server was killed and it has not yet had a success on the new one. A
// failed send is followed by the next, with its own text, as a client
// retries.
func (c *cluster) customerTalks(ctx context.Context, ch *haChat, i int, f *failover) error {
	for k := 0; !f.settled(ch, "customer"); k++ {
		if err := f.judge(ch, c.say(ch, fmt.Sprintf("customer %d/%d", i, k))); err != nil {
			return err
		}
		if err := f.judge(ch, c.poll(ch)); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pace): // a client's pace, not a wait for a condition
		}
	}
	return nil
}

// judge checks the outcome of one customer request against the failover
// window, which the first success on the new server closes; it records the
// restore time then.
func (f *failover) judge(ch *haChat, err error) error {
	open := f.happened() && ch.home == f.victim && ch.back.IsZero()
	switch {
	case err != nil && !open:
		return err
	case err == nil && open && ch.alias != f.victim:
		ch.back = time.Now()
		ch.restoredAfter = ch.back.Sub(f.at)
	}
	return nil
}

// agentTalks is the agent of ch sending at a desktop's pace. A send may fail
// only once its chat server was killed and before it rejoined the chat on
// the new one.
func (c *cluster) agentTalks(ctx context.Context, ch *haChat, i int, f *failover) error {
	for k := 0; !f.settled(ch, "agent"); k++ {
		if err := ch.reply(ctx, fmt.Sprintf("agent %d/%d", i, k)); err != nil {
			if ctx.Err() != nil || !f.happened() || ch.home != f.victim || !ch.rejoined.IsZero() {
				return err
			}
			if err := c.follow(ctx, ch, f); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pace): // a desktop's pace
		}
	}
	return nil
}

// follow is an agent desktop whose chat server went away: it asks the
// survivor where the chat lives, at a desktop's pace, until the chat is
// restored elsewhere, and rejoins it there as the same party.
func (c *cluster) follow(ctx context.Context, ch *haChat, f *failover) error {
	for {
		if owner, err := c.location(ch.id, f.survivor); err == nil && owner != "" && owner != f.victim {
			ch.rejoined = time.Now()
			return c.join(ctx, ch, c.addrs[owner], map[string]any{"sessionId": ch.id, "userId": ch.agentID})
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the chat never left %s: %w", f.victim, ctx.Err())
		case <-time.After(followPace): // a desktop's reconnect pace
		}
	}
}

// location asks chat server at where session id lives.
func (c *cluster) location(id, at string) (string, error) {
	resp, err := c.web().get(c.url(at, "http", "/sessions/"+id+"/location"), at)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var loc struct{ Owner string }
	return loc.Owner, json.NewDecoder(resp.Body).Decode(&loc)
}

// gather runs f(0..n-1) concurrently and returns their errors, joined.
func gather(n int, f func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(i); err != nil {
				errs[i] = fmt.Errorf("chat %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// parallel runs f(0..n-1) concurrently and fails the test on any error.
func parallel(t *testing.T, n int, f func(i int) error) {
	t.Helper()
	if err := gather(n, f); err != nil {
		t.Fatal(err)
	}
}

// openChat requests a chat over REST and joins an agent on its chat server.
func (c *cluster) openChat(ctx context.Context, i int) (*haChat, error) {
	env, err := c.rest("", url.Values{"nickname": {fmt.Sprintf("customer %d", i)}})
	if err != nil || env.StatusCode != 0 {
		return nil, fmt.Errorf("request chat: %+v %v", env, err)
	}
	ch := &haChat{id: env.ChatID, user: env.UserID, key: env.SecureKey, alias: env.Alias, home: env.Alias, position: 1}
	return ch, c.join(ctx, ch, c.addrs[ch.alias], map[string]any{"sessionId": ch.id, "nickname": "agent", "personId": "agent",
		"grant": c.web().grant("agent", ch.id)})
}

// join connects an agent desktop bridge (as gms-1) to the chat server at
// addr and joins (or, with the party's userId, rejoins) ch with body; the
// events pushed to it are kept in ch.pushed.
func (c *cluster) join(ctx context.Context, ch *haChat, addr string, body map[string]any) error {
	conn, err := c.web().tryDial(ctx, c.url(c.nameOf(addr), "ws", "/wire/basic"), c.nameOf(addr), func(m wire.Message) {
		var st struct{ Messages []pushed }
		if json.Unmarshal(m.Body, &st) != nil {
			return
		}
		ch.mu.Lock()
		defer ch.mu.Unlock()
		if !ch.ending {
			ch.pushed = append(ch.pushed, st.Messages...)
		}
	})
	if err != nil {
		return err
	}
	c.t.Cleanup(func() { conn.Close() })
	if _, rejoin := body["userId"]; rejoin {
		body["secureKey"] = ch.agentKey
	}
	var st struct{ UserID, SecureKey string }
	if _, err := conn.Request(ctx, wire.RequestJoin, body, &st); err != nil {
		return fmt.Errorf("join on %s: %w", addr, err)
	}
	ch.agent, ch.agentID, ch.agentAt = conn, st.UserID, c.nameOf(addr)
	if st.SecureKey != "" {
		ch.agentKey = st.SecureKey
	}
	return nil
}

// web returns the test as the web API gms-1 of the cluster.
func (c *cluster) web() testPeer {
	p := peerAs(c.t, c.dataDir, "gms-1")
	p.tls = c.tls
	return p
}

// url returns the URL of path on application name, with scheme ("http" or
// "ws") turned secure when the cluster serves TLS.
func (c *cluster) url(name, scheme, path string) string {
	if c.tls != nil {
		scheme += "s"
	}
	return scheme + "://" + c.addrs[name] + path
}

// talk exchanges messages from..to-1 while nothing fails: the customer over
// REST, the agent over the wire, the customer polling between them. Every
// message must be acknowledged.
func (c *cluster) talk(ctx context.Context, ch *haChat, i, from, to int) error {
	for k := from; k < to; k++ {
		if err := c.say(ch, fmt.Sprintf("customer %d/%d", i, k)); err != nil {
			return err
		}
		if err := ch.reply(ctx, fmt.Sprintf("agent %d/%d", i, k)); err != nil {
			return err
		}
		if err := c.poll(ch); err != nil {
			return err
		}
	}
	return nil
}

func (ch *haChat) form(kv ...string) url.Values {
	f := url.Values{"userId": {ch.user}, "secureKey": {ch.key}, "alias": {ch.alias}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// poll refreshes from the customer's position and records what it sees.
func (c *cluster) poll(ch *haChat) error {
	env, err := c.rest("/"+ch.id+"/refresh", ch.form("transcriptPosition", strconv.Itoa(ch.position)))
	if err != nil || env.StatusCode != 0 {
		ch.failedPolls++
		return fmt.Errorf("refresh: %+v %v", env, err)
	}
	ch.alias = env.Alias
	ch.seen = append(ch.seen, env.Messages...)
	ch.ended = ch.ended || env.ChatEnded
	ch.position = env.NextPosition
	return nil
}

// resume is the customer polling after its chat server went away, as a GMS
// client does (retrying statusCode 1), until the chat is served by another
// chat server; it records how long that took. A poll may still be answered
// from the web API's buffer in the instant before it notices the death.
func (c *cluster) resume(ctx context.Context, ch *haChat, killed time.Time, victim string) error {
	for ctx.Err() == nil {
		if err := c.poll(ch); err == nil && ch.alias != victim {
			ch.restoredAfter = time.Since(killed)
			return nil
		}
		<-time.After(20 * time.Millisecond) // a client's poll pace, not a wait for a condition
	}
	return ctx.Err()
}

// rejoin brings the agent back as the same party on the chat's new owner,
// found as a desktop finds it: the location, from the surviving server.
func (c *cluster) rejoin(ctx context.Context, ch *haChat, victim, survivor string) error {
	owner, err := c.location(ch.id, survivor)
	if err != nil {
		return err
	}
	if owner == victim || owner == "" {
		return fmt.Errorf("location after the customer's resume = %q", owner)
	}
	return c.join(ctx, ch, c.addrs[owner], map[string]any{"sessionId": ch.id, "userId": ch.agentID})
}

// end has the agent close the chat; the events pushed to it from then on
// are not kept.
func (c *cluster) end(ctx context.Context, ch *haChat) error {
	ch.mu.Lock()
	ch.ending = true
	ch.mu.Unlock()
	_, err := ch.agent.Request(ctx, wire.RequestReleaseParty, map[string]any{"sessionId": ch.id, "userId": ch.agentID, "afterAction": "ForceClose"}, nil)
	return err
}

// catchUp polls until the customer has seen the agent's last acknowledged
// message: the web API answers polls from the pushes it has received, which
// may trail the agent's acknowledgement by a moment.
func (c *cluster) catchUp(ctx context.Context, ch *haChat) error {
	var last string
	for _, a := range ch.attempts() {
		if a.from == "agent" && a.acked {
			last = a.text
		}
	}
	for last != "" && !slices.Contains(ch.customerTexts(), last) {
		if ctx.Err() != nil {
			return fmt.Errorf("the customer never saw %q", last)
		}
		<-time.After(20 * time.Millisecond) // a client's poll pace
		if err := c.poll(ch); err != nil {
			return err
		}
	}
	return nil
}

// busiest is the chat server that owns most chats.
func busiest(chats []*haChat) string {
	n := map[string]int{}
	for _, ch := range chats {
		n[ch.alias]++
	}
	if n["chat-2"] > n["chat-1"] {
		return "chat-2"
	}
	return "chat-1"
}

// checkTranscripts reads each chat's final transcript from the contact
// store and checks it against what was sent (transcriptProblems).
func checkTranscripts(t *testing.T, db, dataDir string, chats []*haChat) {
	t.Helper()
	contacts := openContacts(t, db, dataDir)
	for i, ch := range chats {
		in, err := contacts.Interaction(context.Background(), ch.id)
		if err != nil {
			t.Errorf("chat %d: no final transcript: %v", i, err)
			continue
		}
		for _, p := range transcriptProblems(msgTexts(in.TranscriptXML), ch.attempts(), ch.customerTexts()) {
			t.Errorf("chat %d: %s", i, p)
		}
	}
}

// transcriptProblems compares a final transcript's messages with the
// attempts to send them and the messages the customer saw: every
// acknowledged message is in the transcript exactly once, every other at
// most once (it may have been saved before its sender heard of a crash),
// nothing else is in it; a message acknowledged before another was sent
// comes before it; the customer saw each acknowledged agent message exactly
// once, and any other at most once.
func transcriptProblems(texts []string, sent []attempt, seen []string) []string {
	var out []string
	first, count := map[string]int{}, map[string]int{}
	for i, text := range texts {
		if count[text]++; count[text] == 1 {
			first[text] = i
		}
	}
	sentText := map[string]bool{}
	for _, a := range sent {
		sentText[a.text] = true
		switch n := count[a.text]; {
		case a.acked && n != 1:
			out = append(out, fmt.Sprintf("acknowledged %q is %d times in the transcript", a.text, n))
		case !a.acked && n > 1:
			out = append(out, fmt.Sprintf("unacknowledged %q is %d times in the transcript", a.text, n))
		}
		if n := countOf(seen, a.text); a.from == "agent" && (n > 1 || a.acked && n != 1) {
			out = append(out, fmt.Sprintf("the customer saw %q %d times", a.text, n))
		}
	}
	for _, text := range texts {
		if !sentText[text] {
			out = append(out, fmt.Sprintf("%q is in the transcript but was never sent", text))
		}
	}
	for _, a := range sent {
		for _, b := range sent {
			if a.acked && a.done.Before(b.start) && count[a.text] > 0 && count[b.text] > 0 && first[a.text] > first[b.text] {
				out = append(out, fmt.Sprintf("%q, acknowledged before %q was sent, comes after it", a.text, b.text))
			}
		}
	}
	return out
}

func countOf(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

func msgTexts(xml string) []string {
	var out []string
	for _, part := range strings.Split(xml, "<msgText")[1:] {
		start := strings.Index(part, ">") + 1
		end := strings.Index(part, "</msgText>")
		if start > 0 && end >= start {
			out = append(out, part[start:end])
		}
	}
	return out
}

func openContacts(t *testing.T, db, dataDir string) contact.Store {
	t.Helper()
	if db == "sqlite" {
		s, err := sqlite.Open(context.Background(), filepath.Join(dataDir, "parley.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s.Contacts()
	}
	s, err := postgres.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.Contacts()
}

// reportRestoreTimes logs p50/p99 of the time from the kill to each moved
// chat's first successful request on its new server, and holds p99 to 2 s.
func reportRestoreTimes(t *testing.T, chats []*haChat, victim string, within time.Duration) {
	t.Helper()
	var ds []time.Duration
	for _, ch := range chats {
		if ch.restoredAfter > 0 {
			ds = append(ds, ch.restoredAfter)
		}
	}
	if len(ds) == 0 {
		t.Fatalf("no chat moved off %s", victim)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	p50, p99 := ds[len(ds)/2], ds[min(len(ds)-1, len(ds)*99/100)]
	t.Logf("%d chats restored off %s: restore time p50 %v, p99 %v, max %v", len(ds), victim, p50, p99, ds[len(ds)-1])
	if p99 > within {
		t.Errorf("restore time p99 = %v, want under %v", p99, within)
	}
}

// TestStoppedChatServerHandsChatsOver: a chat server stopped with SIGTERM
// (an upgrade) keeps its chats in the store; each continues on the other
// chat server at its next request, with nothing lost and nothing failing:
// the customer and the agent see no more than the reconnect events (each
// party leaving with reason 8 and joining again), and every message after
// the handover is acknowledged at its first attempt.
func TestStoppedChatServerHandsChatsOver(t *testing.T) {
	c := startCluster(t, "sqlite", "session-restoration-mode: simple")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	const chats = 6
	all := make([]*haChat, chats)
	parallel(t, chats, func(i int) error {
		ch, err := c.openChat(ctx, i)
		all[i] = ch
		if err == nil {
			err = c.talk(ctx, ch, i, 0, 2)
		}
		return err
	})
	victim := busiest(all)
	survivor := map[string]string{"chat-1": "chat-2", "chat-2": "chat-1"}[victim]
	stopped := time.Now()
	c.signal(victim, syscall.SIGTERM)
	waitFor(t, c.out, victim+" exited unexpectedly: exit status 0")
	parallel(t, chats, func(i int) error {
		ch := all[i]
		if err := c.resume(ctx, ch, stopped, victim); err != nil {
			return err
		}
		if ch.home == victim {
			if err := c.rejoin(ctx, ch, victim, survivor); err != nil {
				return err
			}
		}
		if err := c.talk(ctx, ch, i, 2, 4); err != nil {
			return err
		}
		return c.catchUp(ctx, ch)
	})
	for i, ch := range all {
		for _, p := range handoverProblems(ch, victim) {
			t.Errorf("chat %d: %s", i, p)
		}
	}
	parallel(t, chats, func(i int) error { return c.end(ctx, all[i]) })
	checkTranscripts(t, "sqlite", c.dataDir, all)
}

// handoverProblems lists what the customer and the agent of ch saw beyond
// the reconnect events of a clean handover off victim: a failed poll, the
// chat ended, a party leaving for another reason than 8; the customer of a
// chat that moved sees its reason 8 leaves.
func handoverProblems(ch *haChat, victim string) []string {
	var out []string
	if ch.failedPolls > 0 {
		out = append(out, fmt.Sprintf("%d polls of the customer failed", ch.failedPolls))
	}
	if ch.ended {
		out = append(out, "the customer saw the chat end")
	}
	ch.mu.Lock()
	views := map[string][]pushed{"customer": ch.seen, "agent": slices.Clone(ch.pushed)}
	ch.mu.Unlock()
	for who, events := range views {
		restored := 0
		for _, e := range events {
			switch {
			case e.Type != "ParticipantLeft":
			case reason(e) == "8":
				restored++
			default:
				out = append(out, fmt.Sprintf("the %s saw a %s leave with reason %q", who, e.From.Type, reason(e)))
			}
		}
		// The agent rejoins after the restore, so only the customer is
		// sure to be shown the reconnect.
		if moved := ch.home == victim; who == "customer" && moved != (restored > 0) {
			out = append(out, fmt.Sprintf("the customer of a chat on %s saw %d reconnect leaves", ch.home, restored))
		}
	}
	return out
}

// TestTranscriptProblems: the failover tests' transcript check finds each
// kind of loss, duplicate and reordering.
func TestTranscriptProblems(t *testing.T) {
	t0 := time.Now()
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	sent := []attempt{
		{from: "customer", text: "c0", start: at(0), done: at(1), acked: true},
		{from: "agent", text: "a0", start: at(2), done: at(3), acked: true},
		{from: "customer", text: "c1", start: at(3), done: at(4)}, // in doubt
		{from: "agent", text: "a1", start: at(3), done: at(5)},    // in doubt
		{from: "customer", text: "c2", start: at(4), done: at(6), acked: true},
		{from: "agent", text: "a2", start: at(5), done: at(6), acked: true}, // concurrent with c2
	}
	seen := []string{"a0", "a2"}
	for _, tt := range []struct {
		name  string
		texts []string
		seen  []string
		want  int
	}{
		{"complete", []string{"c0", "a0", "c2", "a2"}, seen, 0},
		{"in doubt saved", []string{"c0", "a0", "c1", "a1", "a2", "c2"}, append(seen, "a1"), 0},
		{"acknowledged lost", []string{"c0", "a0", "a2"}, seen, 1},
		{"acknowledged twice", []string{"c0", "a0", "c2", "c2", "a2"}, seen, 1},
		{"in doubt twice", []string{"c0", "a0", "c1", "c1", "c2", "a2"}, seen, 1},
		{"never sent", []string{"c0", "a0", "c2", "a2", "split brain"}, seen, 1},
		{"acknowledged out of order", []string{"a0", "c0", "c2", "a2"}, seen, 1},
		{"in doubt before its predecessor", []string{"c1", "c0", "a0", "c2", "a2"}, seen, 1},
		{"agent message not seen", []string{"c0", "a0", "c2", "a2"}, []string{"a0"}, 1},
		{"agent message seen twice", []string{"c0", "a0", "c2", "a2"}, append(seen, "a0"), 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := transcriptProblems(tt.texts, sent, tt.seen); len(got) != tt.want {
				t.Errorf("problems %q, want %d", got, tt.want)
			}
		})
	}
}

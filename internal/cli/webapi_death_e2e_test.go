package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/store/storetest"
)

// TestWebAPIKilledEndToEnd: a deployment of two chat servers and two web
// APIs, gms-1 and gms-2, each connected to both chat servers. REST
// customers and CometD customers (the official CometD JavaScript client,
// over websocket and over long polling) chat with agents through both web
// APIs; gms-1 is killed with SIGKILL while they talk, some of its
// customers' messages in flight. Its customers resume on gms-2 as clients
// do (REST: the same chatId, secureKey and alias at the other base URL;
// CometD: a new handshake there and requestNotifications from the last
// nextPosition) and go on chatting; gms-2's customers see no failure at
// all. Every acknowledged message is in the final transcript exactly once,
// in order, and every customer saw each acknowledged agent message once.
func TestWebAPIKilledEndToEnd(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			node := requireCometdNode(t)
			db := "sqlite"
			if backend == "postgres" {
				db = storetest.PostgresDSN(t)
			}
			runWebAPIDeath(t, startTwoWebAPIs(t, db), db, node)
		})
	}
}

// startTwoWebAPIs runs `parley up` on a deployment of two chat servers and
// two web APIs, gms-1 and gms-2, both connected to both chat servers, on
// database db ("sqlite" or a PostgreSQL DSN).
func startTwoWebAPIs(t *testing.T, db string) *cluster {
	t.Helper()
	dir := t.TempDir()
	c := newCluster(t, dir, "chat-1", "chat-2", "gms-1", "gms-2")
	var yaml strings.Builder
	yaml.WriteString(deploymentHead(c.dataDir, db))
	for _, name := range []string{"chat-1", "chat-2"} {
		fmt.Fprintf(&yaml, "  %s: {type: chat-server, listen: %q, database: main, options: {settings: {session-restoration-mode: simple}}}\n", name, c.addrs[name])
	}
	for _, name := range []string{"gms-1", "gms-2"} {
		fmt.Fprintf(&yaml, "  %s: {type: web-api, listen: %q, connections: [chat-1, chat-2], options: {settings: {request-timeout: 8, status-poll-interval: 1}, log: {verbose: debug}}}\n", name, c.addrs[name])
	}
	c.launch(dir, yaml.String(), "chat-1", "chat-2", "gms-1", "gms-2")
	return c
}

// webCustomer is a customer of the web API death test and its chat.
type webCustomer struct {
	ch    *haChat
	kind  string      // "rest", "websocket" or "long-polling"
	start string      // the web API it began on
	web   string      // REST: the web API it sends to now
	js    *jsCustomer // the official CometD client; nil over REST
}

// The customers of the web API death test: each begins on the first web
// API named; a CometD client moves to the next one by itself when its web
// API goes away, a REST client when a request fails.
var webCustomers = []struct{ kind, web, next string }{
	{"rest", "gms-1", ""},
	{"rest", "gms-1", ""},
	{"websocket", "gms-1", "gms-2"},
	{"long-polling", "gms-1", "gms-2"},
	{"rest", "gms-2", ""},
	{"websocket", "gms-2", ""},
}

// runWebAPIDeath kills gms-1 while every customer and agent is talking and
// checks the chats through gms-2 to their end.
func runWebAPIDeath(t *testing.T, c *cluster, db, node string) {
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	all := make([]*webCustomer, len(webCustomers))
	parallel(t, len(all), func(i int) (err error) {
		all[i], err = c.openWebChat(ctx, node, i)
		return err
	})
	f := &failover{victim: "gms-1", survivor: "gms-2", killed: make(chan struct{})}
	var trafficErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		trafficErr = gather(len(all), func(i int) error { return c.webConverse(ctx, all[i], i, f) })
	}()
	defer func() { cancel(); <-done }()
	// The kill lands once every chat has talked both ways and while some
	// message of gms-1's customers is being sent.
	ready := func() bool {
		at, inFlight := time.Now(), 0
		for _, w := range all {
			if w.ch.acked("customer", time.Time{}, "") < preKill || w.ch.acked("agent", time.Time{}, "") < preKill {
				return false
			}
			if w.start == f.victim {
				inFlight += w.ch.sending("customer")
			}
		}
		f.at = at
		return inFlight > 0
	}
	if !settle.Poll(20*time.Second, func() bool { return isClosed(done) || ready() }) || isClosed(done) {
		cancel()
		<-done
		t.Fatalf("traffic before the kill: %v", trafficErr)
	}
	close(f.killed)
	c.signal(f.victim, syscall.SIGKILL)
	<-done
	if trafficErr != nil {
		t.Fatal(trafficErr)
	}
	for _, w := range all {
		w.settle()
	}
	checkTranscripts(t, db, c.dataDir, chatsOf(all))
	checkResumed(t, all, f)
}

// openWebChat requests customer i's chat on its web API and joins an agent
// on the chat's chat server.
func (c *cluster) openWebChat(ctx context.Context, node string, i int) (*webCustomer, error) {
	spec := webCustomers[i]
	w := &webCustomer{kind: spec.kind, start: spec.web, web: spec.web}
	if spec.kind == "rest" {
		env, err := c.restOn(spec.web, "", url.Values{"nickname": {fmt.Sprintf("customer %d", i)}})
		if err != nil || env.StatusCode != 0 {
			return nil, fmt.Errorf("request chat on %s: %+v %v", spec.web, env, err)
		}
		w.ch = &haChat{id: env.ChatID, user: env.UserID, key: env.SecureKey, alias: env.Alias, home: env.Alias, position: 1}
	} else {
		names := []string{spec.web}
		if spec.next != "" {
			names = append(names, spec.next)
		}
		var err error
		if w.js, err = c.startJSCustomer(ctx, node, spec.kind, names...); err != nil {
			return nil, err
		}
		w.ch = w.js.haChat()
	}
	return w, c.join(ctx, w.ch, c.addrs[w.ch.alias], map[string]any{"sessionId": w.ch.id, "nickname": "agent", "personId": "agent",
		"grant": c.web().grant("agent", w.ch.id)})
}

// restOn posts one Chat API v2 call to web API name.
func (c *cluster) restOn(name, path string, form url.Values) (envelope, error) {
	resp, err := c.web().client().PostForm(c.url(name, "http", "/genesys/2/chat/customer-support"+path), form)
	if err != nil {
		return envelope{}, err
	}
	defer resp.Body.Close()
	var env envelope
	return env, json.NewDecoder(resp.Body).Decode(&env)
}

// webConverse is one chat across the kill: its customer and its agent send
// concurrently until each has had postKill messages acknowledged since the
// kill (the customer's by gms-2); then the customer catches up with the
// agent and the agent ends the chat.
func (c *cluster) webConverse(ctx context.Context, w *webCustomer, i int, f *failover) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	for _, side := range []func(context.Context) error{
		func(ctx context.Context) error { return c.webCustomerTalks(ctx, w, i, f) },
		func(ctx context.Context) error { return agentTalksTo(ctx, w.ch, i, f) },
	} {
		go func() {
			err := side(ctx)
			if err != nil {
				cancel() // the other side would wait for this one in vain
			}
			errs <- err
		}()
	}
	if err := errors.Join(<-errs, <-errs); err != nil {
		return err
	}
	if err := c.webCatchUp(ctx, w); err != nil {
		return err
	}
	return c.end(ctx, w.ch)
}

// webCustomerTalks is the customer of w sending (and, over REST, polling)
// at a client's pace. A request may fail only in its failover window: it
// began on the killed web API and has had no success on the survivor yet.
// A failed REST request sends the next one to the survivor, as a client
// behind a load balancer finds it.
func (c *cluster) webCustomerTalks(ctx context.Context, w *webCustomer, i int, f *failover) error {
	for k := 0; !f.settled(w.ch, "customer"); k++ {
		if err := w.judge(f, c.webSay(ctx, w, fmt.Sprintf("customer %d/%d", i, k))); err != nil {
			return err
		}
		if w.js == nil {
			if err := w.judge(f, c.webPoll(w)); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pace): // a client's pace, not a wait for a condition
		}
	}
	return nil
}

// judge checks the outcome of one customer request against w's failover
// window and moves a REST customer to the survivor on a failure in it.
func (w *webCustomer) judge(f *failover, err error) error {
	open := f.happened() && w.start == f.victim && w.ch.back.IsZero()
	switch {
	case err != nil && !open:
		return fmt.Errorf("%s customer on %s: %w", w.kind, w.web, err)
	case err != nil && w.js == nil:
		w.web = f.survivor
	case err == nil && open && w.ch.acked("customer", f.at, f.survivor) > 0:
		w.ch.back = time.Now()
		w.ch.restoredAfter = w.ch.back.Sub(f.at)
	}
	return nil
}

// webSay sends text as w's customer and records the attempt, acknowledged
// by the web API that answered it.
func (c *cluster) webSay(ctx context.Context, w *webCustomer, text string) error {
	i := w.ch.begin("customer", text)
	if w.js != nil {
		via, err := w.js.say(ctx, text, 10*time.Second)
		w.ch.finish(i, via)
		return err
	}
	env, err := c.restOn(w.web, "/"+w.ch.id+"/send", w.ch.form("message", text))
	if err == nil && env.Alias != "" {
		w.ch.alias = env.Alias
	}
	if err != nil || env.StatusCode != 0 {
		w.ch.finish(i, "")
		return fmt.Errorf("send %q: %+v %v", text, env, err)
	}
	w.ch.finish(i, w.web)
	return nil
}

// webPoll refreshes a REST customer from its position on its web API.
func (c *cluster) webPoll(w *webCustomer) error {
	ch := w.ch
	env, err := c.restOn(w.web, "/"+ch.id+"/refresh", ch.form("transcriptPosition", strconv.Itoa(ch.position)))
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

// agentTalksTo is the agent of ch sending at a desktop's pace until it has
// had postKill messages acknowledged since the kill. Its chat servers live
// on: no send may fail.
func agentTalksTo(ctx context.Context, ch *haChat, i int, f *failover) error {
	for k := 0; !f.happened() || ch.acked("agent", f.at, "") < postKill; k++ {
		if err := ch.reply(ctx, fmt.Sprintf("agent %d/%d", i, k)); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pace): // a desktop's pace
		}
	}
	return nil
}

// webCatchUp waits until w's customer has seen the agent's last
// acknowledged message, polling over REST.
func (c *cluster) webCatchUp(ctx context.Context, w *webCustomer) error {
	var last string
	for _, a := range w.ch.attempts() {
		if a.from == "agent" && a.acked {
			last = a.text
		}
	}
	seen := func() bool {
		if w.js != nil {
			_, ok := w.js.saw(last)
			return ok
		}
		return slices.Contains(w.ch.customerTexts(), last)
	}
	for last != "" && !seen() {
		if ctx.Err() != nil {
			return fmt.Errorf("the %s customer never saw %q", w.kind, last)
		}
		<-time.After(20 * time.Millisecond) // a client's poll pace
		if w.js == nil {
			if err := c.webPoll(w); err != nil {
				return err
			}
		}
	}
	return nil
}

// settle completes a CometD customer's record once its chat is over: what
// was delivered to it is what it saw, and a message of its own that was
// delivered back to it is acknowledged (it is in the chat, whatever its
// publish's fate), from then on.
func (w *webCustomer) settle() {
	if w.js == nil {
		return
	}
	w.ch.seen = w.js.events()
	w.ch.mu.Lock()
	defer w.ch.mu.Unlock()
	for k := range w.ch.sent {
		a := &w.ch.sent[k]
		if via, ok := w.js.saw(a.text); ok && a.from == "customer" && !a.acked {
			a.acked, a.by, a.done = true, via, time.Now()
		}
	}
}

// checkResumed checks that every customer of the killed web API resumed
// its chat on the survivor, and logs how long that took.
func checkResumed(t *testing.T, all []*webCustomer, f *failover) {
	t.Helper()
	inFlight, failed := 0, 0
	for i, w := range all {
		for _, a := range w.ch.attempts() {
			if a.from == "customer" && a.start.Before(f.at) && a.done.After(f.at) {
				inFlight++
				if !a.acked {
					failed++
				}
			}
		}
		if w.start != f.victim {
			continue
		}
		if w.ch.back.IsZero() {
			t.Errorf("customer %d (%s) never came back on %s", i, w.kind, f.survivor)
			continue
		}
		// The client resumes on the survivor; it may do so again there
		// should the survivor drop its session, never on the victim.
		if r := w.js; r != nil && (len(r.resumedOn()) == 0 || r.resumedOn()[0] != f.survivor || slices.Contains(r.resumedOn(), f.victim)) {
			t.Errorf("customer %d (%s) resumed on %q, want %s", i, w.kind, r.resumedOn(), f.survivor)
		}
		t.Logf("customer %d (%s) back on %s %v after the kill", i, w.kind, f.survivor, w.ch.restoredAfter)
	}
	t.Logf("%d customer messages were being sent as the kill was sent, %d of them not acknowledged", inFlight, failed)
}

// sending counts from's messages being sent.
func (ch *haChat) sending(from string) int {
	n := 0
	for _, a := range ch.attempts() {
		if a.from == from && a.done.IsZero() {
			n++
		}
	}
	return n
}

func chatsOf(all []*webCustomer) []*haChat {
	out := make([]*haChat, len(all))
	for i, w := range all {
		out[i] = w.ch
	}
	return out
}

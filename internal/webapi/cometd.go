package webapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/bayeux"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// cometPath is where Chat API v2 over CometD is served.
const cometPath = "/genesys/cometd"

// chatV2Prefix starts the service channels, /service/chatV2/{serviceName}.
const chatV2Prefix = "/service/chatV2/"

// Retries of a push subscription whose chat server went away: the chat is
// restored elsewhere, or its server comes back.
const (
	resubscribeFirst = 200 * time.Millisecond
	resubscribeMax   = 5 * time.Second
)

// cometOps maps the CometD operations that have a REST twin to the REST
// operation name; requestChat, requestNotifications and disconnect have
// their own code.
var cometOps = map[string]string{
	"sendMessage":    "send",
	"startTyping":    "startTyping",
	"stopTyping":     "stopTyping",
	"pushUrl":        "pushUrl",
	"customNotice":   "customNotice",
	"updateNickname": "updateNickname",
	"updateData":     "updateData",
}

// cometd serves Chat API v2 over CometD: the operations published on
// /service/chatV2/{serviceName}, their replies and the chat's pushes, all
// delivered to the publishing client on that channel with the REST
// envelope as data. Each chat a client requested or resumed has a
// cometTarget in the push table, subscribed on the chat's chat server.
type cometd struct {
	s  *Server
	bx *bayeux.Server

	mu      sync.Mutex      // guards ctx and stopped
	ctx     context.Context // the lifetime of the watchers; nil before start
	stopped bool
	wg      sync.WaitGroup // the watchers
}

func newCometd(s *Server) *cometd {
	o, l := s.cfg.Options.CometD, s.cfg.Options.Limits
	allow := func(origin string) bool { return s.browser.Load().allow(origin) }
	c := &cometd{s: s, bx: bayeux.New(bayeux.Options{Timeout: o.Timeout, MaxInterval: o.MaxInterval,
		CheckOrigin: allow, Logger: s.log,
		// The chat service only: no channel relays one client's messages to another.
		Channels:          []string{chatV2Prefix},
		MaxClientsPerAddr: l.CometDClientsPerAddress, MaxConnectsPerAddr: l.CometDConnectsPerAddress,
		MaxExtSize: l.CometDMaxExtSize, Refused: s.metrics.refuse})}
	c.bx.HandleService(chatV2Prefix, c.serve)
	return c
}

// start runs the CometD server on wg until ctx is done: it expires silent
// clients, then closes them all (each drops its subscriptions) and waits
// for the watchers. It must run before requests are served.
func (c *cometd) start(ctx context.Context, wg *sync.WaitGroup) {
	c.mu.Lock()
	c.ctx = ctx
	c.mu.Unlock()
	wg.Go(func() {
		c.bx.Run(ctx)
		c.mu.Lock()
		c.stopped = true
		c.mu.Unlock()
		c.wg.Wait()
	})
}

// spawn runs f on a goroutine that start waits for, with the server's
// lifetime as its context; it does nothing once the server stopped.
func (c *cometd) spawn(f func(ctx context.Context)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil || c.stopped {
		return
	}
	ctx := c.ctx
	c.wg.Go(func() { f(ctx) })
}

// serve is the ServiceFunc of the chatV2 channels. Every outcome is
// delivered as an envelope, which is what Genesys clients read; a
// malformed request (error 102 or 103: bad data, unknown service or
// operation, a missing field) also fails the publish with a 400.
func (c *cometd) serve(ctx context.Context, bc *bayeux.Client, channel string, data json.RawMessage) error {
	ctx, cancel := context.WithTimeout(ctx, c.s.cfg.Options.Settings.RequestTimeout)
	defer cancel()
	q, name, err := c.parse(channel, data)
	if err != nil {
		return c.answer(bc, channel, "unknown", q, nil, err)
	}
	return c.run(ctx, bc, channel, name, q)
}

// parse reads a publish into the request the REST handlers take, and
// returns its operation.
func (c *cometd) parse(channel string, data json.RawMessage) (*request, string, error) {
	q := &request{service: strings.TrimPrefix(channel, chatV2Prefix)}
	f, err := decodeData(data)
	if err != nil {
		return q, "", err
	}
	q.form = f
	var ok bool
	if strings.Contains(q.service, "/") {
		return q, "", wire.Errorf(wire.CodeBadRequest, "unknown service")
	}
	if q.queue, ok = c.s.cfg.Options.Queue(q.service); !ok {
		return q, "", wire.Errorf(wire.CodeBadRequest, "unknown service")
	}
	return q, f.get("operation"), nil
}

// run serves operation name and returns answer's verdict.
func (c *cometd) run(ctx context.Context, bc *bayeux.Client, channel, name string, q *request) error {
	switch name {
	case "requestChat":
		return c.requestChat(ctx, bc, channel, q)
	case "requestNotifications":
		return c.requestNotifications(ctx, bc, channel, q)
	case "disconnect":
		return c.party(ctx, bc, channel, name, q, c.disconnect(bc))
	}
	rest, ok := cometOps[name]
	if !ok {
		return c.answer(bc, channel, "unknown", q, nil, wire.Errorf(wire.CodeBadRequest, "no such Chat API operation"))
	}
	return c.party(ctx, bc, channel, name, q, c.s.operation(rest).h)
}

// party runs an operation on an existing chat and answers it; when the
// chat moved to another chat server meanwhile, the client's push target
// follows it there.
func (c *cometd) party(ctx context.Context, bc *bayeux.Client, channel, name string, q *request, h handlerFunc) error {
	var err error
	if q.ref, q.alias, err = partyOf(q.form, q.form.get("chatId")); err != nil {
		return c.answer(bc, channel, name, q, nil, err)
	}
	env, err := h(ctx, q)
	verdict := c.answer(bc, channel, name, q, env, err)
	if t := c.target(bc, q.ref); t != nil && q.moved {
		if err := c.resubscribe(ctx, t, q); err != nil {
			c.s.log.Debug("cometd: push not moved with the chat", "chat", q.ref.SessionID, "err", err)
		}
	}
	return verdict
}

// disconnect is the disconnect operation: the client leaves the chat, and
// its push target, if it has one, ends.
func (c *cometd) disconnect(bc *bayeux.Client) handlerFunc {
	return func(ctx context.Context, q *request) (*envelope, error) {
		t := c.target(bc, q.ref)
		env, err := c.s.disconnect(ctx, q)
		if err == nil && t != nil {
			t.close()
		}
		return env, err
	}
}

// answer delivers the reply to an operation: a success through the
// client's push target of that chat when it has one, so that no event is
// delivered twice; an error as it is. It returns the publish's verdict: a
// 400 for a malformed request, nil otherwise.
func (c *cometd) answer(bc *bayeux.Client, channel, name string, q *request, env *envelope, err error) error {
	if err == nil {
		c.s.metrics.requests.WithLabelValues(name, strconv.Itoa(env.StatusCode)).Inc()
		env.whole(q.ref, q.alias)
		if t := c.target(bc, q.ref); t != nil {
			t.reply(*env)
			return nil
		}
		_ = bc.DeliverJSON(channel, env.encode()) // a client that is gone needs no answer
		return nil
	}
	e := errorEnvelope(err)
	if q.moved {
		e.Alias = q.alias // the chat moved: the client's retry goes there
	}
	c.s.metrics.requests.WithLabelValues(name, strconv.Itoa(e.StatusCode)).Inc()
	_ = bc.DeliverJSON(channel, e.encode())
	if code := wire.Code(e.Errors[0].Code); code == wire.CodeBadRequest || code == wire.CodeTooLarge {
		return &bayeux.Error{Code: 400, Message: e.Errors[0].Advice}
	}
	return nil
}

// requestChat creates a chat, delivers its reply, and subscribes the new
// client party for pushes.
func (c *cometd) requestChat(ctx context.Context, bc *bayeux.Client, channel string, q *request) error {
	q.addr = bc.Addr()
	env, err := c.s.requestChat(ctx, q)
	if err != nil {
		return c.answer(bc, channel, "requestChat", q, nil, err)
	}
	c.s.metrics.requests.WithLabelValues("requestChat", strconv.Itoa(env.StatusCode)).Inc()
	q.ref = partyRef{SessionID: env.ChatID, UserID: env.UserID, SecureKey: env.SecureKey}
	q.alias = env.Alias
	t := newCometTarget(bc, channel, q.ref)
	t.reply(*env)
	t.subMu.Lock()
	err = c.subscribe(ctx, q, t, false)
	t.subMu.Unlock()
	if err != nil && errorEnvelope(err).StatusCode == statusFinal {
		c.s.log.Warn("cometd: new chat not subscribed for pushes", "chat", q.ref.SessionID, "err", err)
		return c.answer(bc, channel, "requestChat", q, nil, err)
	}
	bc.OnClose(func(error) { c.drop(t) })
	if err != nil {
		// The client has its chat id: it must not miss the chat's events
		// for a chat server connection that failed just now. Its position
		// is still 1, so the subscription, when it succeeds, brings them all.
		c.s.log.Warn("cometd: new chat not subscribed for pushes yet, retrying", "chat", q.ref.SessionID, "err", err)
		c.spawn(func(ctx context.Context) {
			c.retryPush(ctx, t, func() *request {
				if c.s.targets.get(t.key) != nil || !t.alive(time.Time{}) {
					return nil // subscribed meanwhile (requestNotifications), or the client left
				}
				return &request{ref: q.ref, alias: q.alias}
			})
		})
	}
	return nil
}

// requestNotifications resumes the pushes of a chat for this client, from
// transcriptPosition (absent or 0: from the start); the reply carries the
// events from there. Without chatId, the chat is found by the userId of a
// push subscription this web API holds.
func (c *cometd) requestNotifications(ctx context.Context, bc *bayeux.Client, channel string, q *request) error {
	const name = "requestNotifications"
	pos, err := q.form.position("transcriptPosition")
	if err != nil {
		return c.answer(bc, channel, name, q, nil, err)
	}
	chatID := q.form.get("chatId")
	if chatID == "" {
		chatID = c.s.targets.sessionOf(q.form.get("userId"))
	}
	if q.ref, q.alias, err = partyOf(q.form, chatID); err != nil {
		return c.answer(bc, channel, name, q, nil, err)
	}
	t := c.target(bc, q.ref)
	fresh := t == nil
	if fresh {
		t = newCometTarget(bc, channel, q.ref)
	}
	t.subMu.Lock()
	t.rewind(pos)
	err = c.subscribe(ctx, q, t, true)
	t.subMu.Unlock()
	if err != nil {
		return c.answer(bc, channel, name, q, nil, err)
	}
	c.s.metrics.requests.WithLabelValues(name, strconv.Itoa(statusOK)).Inc()
	if fresh {
		bc.OnClose(func(error) { c.drop(t) })
	}
	return nil
}

// target returns bc's push target of the party, or nil when the party's
// pushes go elsewhere (another client, a REST buffer) or nowhere.
func (c *cometd) target(bc *bayeux.Client, ref partyRef) *cometTarget {
	if ref.SessionID == "" {
		return nil
	}
	sub := c.s.targets.get(partyKey{ref.SessionID, ref.UserID})
	if sub == nil {
		return nil
	}
	if t, ok := sub.t.(*cometTarget); ok && t.client == bc {
		return t
	}
	return nil
}

// subscribe subscribes t's party, from t's position, on the chat server of
// q's chat, restoring the chat elsewhere when that server is gone, and
// makes t the party's push target. The reply is delivered when it carries
// events t has not delivered, or always when always is set. t.subMu must
// be held.
func (c *cometd) subscribe(ctx context.Context, q *request, t *cometTarget, always bool) error {
	return c.s.follow(ctx, q, func() error { return c.subscribeOnce(ctx, q, t, always) }, func(error) bool { return true })
}

// subscribeOnce subscribes on the chat server q.alias names. The target is
// in the push table before the request goes, and holds what is pushed until
// the reply is delivered: the reply comes first, and a push that overtook
// it is not lost. On failure the table is as it was.
func (c *cometd) subscribeOnce(ctx context.Context, q *request, t *cometTarget, always bool) error {
	cs, conn, err := c.s.locate(ctx, q)
	if err != nil {
		return err
	}
	sub := &subscription{server: cs.name, conn: conn, ref: q.ref, t: t}
	t.hold()
	prev := c.s.targets.swap(t.key, nil, sub)
	var st status
	err = ownerRequest(ctx, conn, wire.RequestSubscribe, positionBody{partyRef: q.ref, TranscriptPosition: t.position()}, &st)
	if err != nil {
		c.s.targets.swap(t.key, sub, prev)
		// What was pushed meanwhile is not for t, whose credentials were
		// not accepted, but for the target it displaced, if any.
		for _, st := range t.discard() {
			if prev != nil && prev.conn == conn {
				prev.t.push(st)
			}
		}
		return fmt.Errorf("webapi: subscribe on %s: %w", cs.name, err)
	}
	t.release(okEnvelope(st), always)
	if st.Push != nil {
		t.setDevice(*st.Push)
	}
	c.watch(t, conn)
	return nil
}

// resubscribe moves t to the chat server q.alias names, unless it is
// subscribed there already or is no longer the party's target.
func (c *cometd) resubscribe(ctx context.Context, t *cometTarget, q *request) error {
	t.subMu.Lock()
	defer t.subMu.Unlock()
	sub := c.s.targets.get(t.key)
	if sub == nil || sub.t != t || (sub.server == q.alias && sub.conn.Err() == nil) {
		return nil
	}
	return c.subscribe(ctx, q, t, false)
}

// watch waits, for as long as t is subscribed on conn, for conn to end,
// and then moves the pushes to where the chat is now: a CometD client
// sends nothing while it waits, so the web API must find the chat a new
// server itself. One watcher per target and connection is enough.
// t.subMu must be held.
func (c *cometd) watch(t *cometTarget, conn *wire.Conn) {
	if t.watched == conn {
		return
	}
	t.watched = conn
	c.spawn(func(ctx context.Context) {
		select {
		case <-ctx.Done():
			return
		case <-t.stop:
			return
		case <-t.client.Done():
			return
		case <-conn.Done():
		}
		c.recoverPush(ctx, t, conn)
	})
}

// recoverPush re-subscribes t after its chat server connection dead
// ended, restoring the chat on another chat server when it must, for as
// long as t is still subscribed on dead.
func (c *cometd) recoverPush(ctx context.Context, t *cometTarget, dead *wire.Conn) {
	c.retryPush(ctx, t, func() *request {
		cur := c.s.targets.get(t.key)
		if cur == nil || cur.t != t || cur.conn != dead {
			return nil // re-subscribed by an operation, replaced or dropped
		}
		return &request{ref: cur.ref, alias: cur.server}
	})
}

// retryPush subscribes t with the request next returns, retrying with a
// growing delay until it succeeds, the chat cannot go on (the client is
// then told), t's client is gone, or next returns nil: the subscription is
// no longer needed. next runs with t.subMu held.
func (c *cometd) retryPush(ctx context.Context, t *cometTarget, next func() *request) {
	delay := resubscribeFirst
	for {
		t.subMu.Lock()
		q := next()
		if q == nil {
			t.subMu.Unlock()
			return
		}
		err := c.subscribe(ctx, q, t, false)
		t.subMu.Unlock()
		if err == nil {
			return
		}
		c.s.log.Debug("cometd: push not subscribed", "chat", q.ref.SessionID, "err", err)
		if e := errorEnvelope(err); e.StatusCode == statusFinal {
			_ = t.client.DeliverJSON(t.channel, e.encode())
			c.drop(t)
			return
		}
		if !t.wait(ctx, delay) {
			return
		}
		delay = min(2*delay, resubscribeMax)
	}
}

// drop ends t: it leaves the push table, and the chat server stops pushing
// to it and goes back to flex-disconnect-timeout for its party. A party
// with a permanent push subscription is not unsubscribed: its pushes go on
// to its device, from the first event t did not deliver.
func (c *cometd) drop(t *cometTarget) {
	t.close()
	if dev := t.device(); dev != nil {
		if cur := c.s.targets.get(t.key); cur != nil && cur.t == t {
			next := &subscription{server: cur.server, conn: cur.conn, ref: cur.ref,
				t: c.s.newPushTarget(*dev, t.key, t.position())}
			c.s.targets.swap(t.key, cur, next)
		}
		return
	}
	if sub := c.s.targets.take(t.key, t); sub != nil {
		c.s.unsubscribe(context.Background(), sub)
	}
}

// take removes and returns the party's subscription when its target is t.
// It lives here, not with the table, because only CometD targets are
// dropped by identity.
func (ts *targets) take(k partyKey, t target) *subscription {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	sub := ts.m[k]
	if sub == nil || sub.t != t {
		return nil
	}
	delete(ts.m, k)
	return sub
}

// swap sets the party's subscription to next when it is old, or whatever
// it is when old is nil, and returns what it was; a nil next removes it.
func (ts *targets) swap(k partyKey, old, next *subscription) *subscription {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	cur := ts.m[k]
	if old != nil && cur != old {
		return cur
	}
	if next == nil {
		delete(ts.m, k)
	} else {
		ts.m[k] = next
	}
	return cur
}

// sessionOf returns the chat of the subscription held for client party
// userID, or "".
func (ts *targets) sessionOf(userID string) string {
	if userID == "" {
		return ""
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for k := range ts.m {
		if k.userID == userID {
			return k.sessionID
		}
	}
	return ""
}

// cometTarget is where the pushes of one client party go when a CometD
// client follows its chat: each is delivered at once to that client, in
// order, with no event twice. It also delivers the replies to the
// client's operations on the chat, so that replies and pushes share one
// count of what was delivered.
type cometTarget struct {
	client  *bayeux.Client
	channel string
	key     partyKey
	ref     partyRef      // the party, with the secure key every delivery carries
	stop    chan struct{} // closed when the target is dropped
	once    sync.Once

	subMu   sync.Mutex // serialises (re)subscriptions; guards watched
	watched *wire.Conn // the connection a watcher waits on

	mu      sync.Mutex  // guards the fields below; held while delivering, for order
	dev     *pushDevice // the party's permanent push subscription, if it has one
	next    int         // events before next were delivered (typing notices aside)
	typing  map[typingKey]struct{}
	waiting holdQueue // pushes while a subscription is in flight
}

// typingKey names a typing notice. Typing notices are usually not stored,
// so a chat restored on another server reuses their positions: they are
// remembered apart and do not move next, so that the events that take
// their positions are still delivered.
type typingKey struct {
	index   int
	utcTime int64
}

var _ target = (*cometTarget)(nil)

func newCometTarget(bc *bayeux.Client, channel string, ref partyRef) *cometTarget {
	return &cometTarget{client: bc, channel: channel, key: partyKey{ref.SessionID, ref.UserID}, ref: ref,
		stop: make(chan struct{}), next: 1}
}

func (t *cometTarget) push(st status) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.waiting.keep(st) {
		t.emitLocked(okEnvelope(st), false)
	}
}

// closed reports whether t was dropped.
func (t *cometTarget) closed() bool {
	select {
	case <-t.stop:
		return true
	default:
		return false
	}
}

// alive reports whether the CometD client is still there.
func (t *cometTarget) alive(time.Time) bool {
	select {
	case <-t.client.Done():
		return false
	default:
		return true
	}
}

// reply delivers the reply to an operation, with the events it carries
// that were not delivered yet.
func (t *cometTarget) reply(env envelope) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.emitLocked(env, true)
}

// hold makes pushes wait until release.
func (t *cometTarget) hold() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.waiting.hold()
}

// release delivers a subscription's reply env, then the pushes that
// waited for it, and lets pushes through again.
func (t *cometTarget) release(env envelope, always bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.emitLocked(env, always)
	for _, st := range t.waiting.take() {
		t.emitLocked(okEnvelope(st), false)
	}
}

// discard lets pushes through again and returns those that waited, after
// a subscription failed.
func (t *cometTarget) discard() []status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.waiting.take()
}

// rewind makes the next subscription start at pos: the client asked for
// the events from there.
func (t *cometTarget) rewind(pos int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next, t.typing = max(pos, 1), nil
}

// position is where a subscription starts: the first event not delivered.
func (t *cometTarget) position() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.next
}

// emitLocked delivers env with the events not delivered yet; without any,
// only when always is set or the chat just ended. nextPosition is next, so
// that a client resuming from it misses nothing. t.mu must be held.
func (t *cometTarget) emitLocked(env envelope, always bool) {
	msgs := env.Messages[:0:0]
	for _, m := range env.Messages {
		if t.fresh(m.Index, m.UTCTime, m.Type == transcript.TypingStarted || m.Type == transcript.TypingStopped) {
			msgs = append(msgs, m)
		}
	}
	if len(msgs) == 0 && !always && !env.ChatEnded {
		return
	}
	env.Messages, env.NextPosition = msgs, t.next
	env.whole(t.ref, "")
	_ = t.client.DeliverJSON(t.channel, env.encode()) // a gone client is dropped by its OnClose
}

// fresh reports whether the event at index was not delivered yet, and
// records it as delivered. t.mu must be held.
func (t *cometTarget) fresh(index int, utcTime int64, typing bool) bool {
	if index < t.next {
		return false
	}
	if typing {
		k := typingKey{index, utcTime}
		if _, seen := t.typing[k]; seen {
			return false
		}
		if t.typing == nil {
			t.typing = make(map[typingKey]struct{})
		}
		t.typing[k] = struct{}{}
		return true
	}
	t.next = index + 1
	for k := range t.typing {
		if k.index < t.next {
			delete(t.typing, k)
		}
	}
	return true
}

// setDevice records that the party has a permanent push subscription.
func (t *cometTarget) setDevice(dev pushDevice) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dev = &dev
}

// device returns the party's push device, or nil.
func (t *cometTarget) device() *pushDevice {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.dev
}

// close ends the target's watchers.
func (t *cometTarget) close() { t.once.Do(func() { close(t.stop) }) }

// wait waits for d, and reports false when ctx ended, the target was
// dropped or its client left meanwhile.
func (t *cometTarget) wait(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
	case <-t.stop:
	case <-t.client.Done():
	}
	return false
}

// decodeData reads the data of a publish, a JSON object, as a form: each
// string, number or boolean field by name, the fields of the userData
// object as user data, and those of the eventAttributes object as the
// party's attributes. Fields of other types are ignored.
func decodeData(data json.RawMessage) (form, error) {
	var fields map[string]dataField
	if err := json.Unmarshal(data, &fields); err != nil || fields == nil {
		return form{}, wire.Errorf(wire.CodeBadRequest, "data must be a JSON object")
	}
	f := form{values: make(map[string]string, len(fields)), userData: map[string]string{}}
	for k, v := range fields {
		switch {
		case (k == "userData" || k == "eventAttributes") && v.scalar:
			return form{}, wire.Errorf(wire.CodeBadRequest, "%s must be a JSON object", k)
		case k == "userData" || k == "eventAttributes":
			m, err := decodeStrings(k, v.raw)
			if err != nil {
				return form{}, err
			}
			if k == "userData" {
				f.userData = m
			} else {
				f.attrs = m
			}
		case v.scalar:
			f.values[k] = v.text
		}
	}
	return f, nil
}

// decodeStrings reads the object v of the data field name (userData or
// eventAttributes), with the limits of REST.
func decodeStrings(name string, v []byte) (map[string]string, error) {
	var fields map[string]dataField
	if err := json.Unmarshal(v, &fields); err != nil {
		return nil, wire.Errorf(wire.CodeBadRequest, "%s must be a JSON object", name)
	}
	if len(fields) > maxUserData {
		return nil, wire.Errorf(wire.CodeBadRequest, "more than %d %s fields", maxUserData, name)
	}
	m := make(map[string]string, len(fields))
	for k, v := range fields {
		switch {
		case k == "" || len(k) > maxKeyLen:
			return nil, wire.Errorf(wire.CodeBadRequest, "%s key must be 1-%d bytes", name, maxKeyLen)
		case !v.scalar:
			return nil, wire.Errorf(wire.CodeBadRequest, "%s values must be strings", name)
		}
		m[k] = v.text
	}
	return m, nil
}

// dataField is one field of a publish's data, decoded where it lies: a
// string, number or boolean as text; anything else kept as JSON, for
// userData.
type dataField struct {
	text   string
	scalar bool
	raw    []byte // when not a scalar
}

// UnmarshalJSON takes one JSON value, which the decoder has checked.
func (f *dataField) UnmarshalJSON(b []byte) error {
	if f.text, f.scalar = scalar(b); !f.scalar {
		f.raw = bytes.Clone(b)
	}
	return nil
}

// scalar returns v, a valid JSON value, as text when it is a string, a
// number (as written) or a boolean; null, objects and arrays are not
// scalars.
func scalar(v []byte) (string, bool) {
	switch v[0] {
	case '"':
		if s := v[1 : len(v)-1]; bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
			return string(s), true // nothing to unescape or replace
		}
		var s string
		return s, json.Unmarshal(v, &s) == nil
	case 't':
		return "true", true
	case 'f':
		return "false", true
	case 'n', '{', '[':
		return "", false
	}
	return string(v), true
}

package webapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// The Request Chat userData keys that ask for a permanent push subscription
// (GMS's mobile and custom-http push notifications).
const (
	pushDeviceKey = "push_notification_deviceid"
	pushTypeKey   = "push_notification_type"
)

// pushCustomHTTP is the push type the web API delivers itself: a POST to
// [push] customhttp.url.
const pushCustomHTTP = "customhttp"

// pushTypes are the push types a chat may ask for. fcm and ios are accepted
// and keep the subscription's semantics, but this web API cannot reach
// Google or Apple: their notifications are not delivered.
var pushTypes = []string{pushCustomHTTP, "fcm", "ios"}

// Retries of a failed custom-http POST.
const (
	pushRetryFirst = 200 * time.Millisecond
	pushRetryMax   = 2 * time.Second
)

// pushDevice is where a party's push notifications go. The chat server
// keeps it on the party, which is what makes the subscription permanent.
type pushDevice struct {
	DeviceID string `json:"deviceId"`
	Type     string `json:"type"`
}

// pushOf reads the push keys of a Request Chat's userData: nil without
// them, a CodeBadRequest error when they are incomplete, name an unknown
// type or a type [push] pushEnabled does not list.
func (s *Server) pushOf(ud map[string]string) (*pushDevice, error) {
	dev := &pushDevice{DeviceID: ud[pushDeviceKey], Type: ud[pushTypeKey]}
	switch {
	case dev.DeviceID == "" && dev.Type == "":
		return nil, nil
	case dev.DeviceID == "":
		return nil, wire.Errorf(wire.CodeBadRequest, "userData %s is required with %s", pushDeviceKey, pushTypeKey)
	case dev.Type == "":
		return nil, wire.Errorf(wire.CodeBadRequest, "userData %s is required with %s", pushTypeKey, pushDeviceKey)
	case !slices.Contains(pushTypes, dev.Type):
		return nil, wire.Errorf(wire.CodeBadRequest, "push_notification_type %q is not supported (customhttp, fcm, ios)", dev.Type)
	case !s.cfg.Options.Push.Enabled(dev.Type):
		return nil, wire.Errorf(wire.CodeBadRequest, "push_notification_type %q is not enabled ([push] pushEnabled)", dev.Type)
	}
	return dev, nil
}

// subscribePush makes a new chat's client party a permanent push
// subscription on conn, from the events after its Request Chat reply st.
func (s *Server) subscribePush(ctx context.Context, server string, conn *wire.Conn, st status, dev pushDevice) error {
	ref := partyRef{SessionID: st.SessionID, UserID: st.UserID, SecureKey: st.SecureKey}
	k := partyKey{ref.SessionID, ref.UserID}
	t := s.newPushTarget(dev, k, st.NextPosition)
	sub := &subscription{server: server, conn: conn, ref: ref, t: t}
	t.hold() // the reply comes first; a push that overtook it waits
	s.targets.put(k, sub)
	var reply status
	body := positionBody{partyRef: ref, TranscriptPosition: st.NextPosition, Push: &dev}
	if err := ownerRequest(ctx, conn, wire.RequestSubscribe, body, &reply); err != nil {
		s.targets.remove(k, sub)
		t.release(status{})
		return fmt.Errorf("webapi: push subscribe on %s: %w", server, err)
	}
	t.release(reply)
	return nil
}

// adoptPush takes over a permanent push subscription the chat server hands
// this web API on c (st carries its device): after a restart of this or
// another web API, or when the connection it was on dropped.
func (s *Server) adoptPush(c *wire.Conn, st status) *subscription {
	k := partyKey{st.SessionID, st.UserID}
	if cur := s.targets.get(k); cur != nil {
		if t, ok := cur.t.(*cometTarget); ok && !t.closed() && t.alive(time.Now()) {
			// Its CometD client is still here (a chat restored elsewhere):
			// the client keeps the party and re-subscribes from its own
			// position; the device takes over when the client goes.
			t.setDevice(*st.Push)
			return nil
		}
	}
	sub := &subscription{server: st.Alias, conn: c, ref: partyRef{SessionID: st.SessionID, UserID: st.UserID},
		t: s.newPushTarget(*st.Push, k, 0)}
	s.targets.put(k, sub)
	s.log.Info("push subscription taken over", "chat", st.SessionID, "type", st.Push.Type)
	return sub
}

// keeper is a target the sweeper keeps while keep reports true, alive or
// not: a permanent push subscription is never unsubscribed.
type keeper interface{ keep() bool }

// kept reports whether t is a keeper that keeps itself.
func kept(t target) bool {
	k, ok := t.(keeper)
	return ok && k.keep()
}

// pushTarget is a permanent push subscription: each event the client may
// see is sent once, in order, to its device. It lives until the chat ends.
type pushTarget struct {
	p   *pusher
	dev pushDevice
	key partyKey

	mu      sync.Mutex // guards the fields below
	next    int        // events before next were sent
	ended   bool
	waiting holdQueue // pushes while a subscription is in flight
}

var (
	_ target = (*pushTarget)(nil)
	_ keeper = (*pushTarget)(nil)
)

func (s *Server) newPushTarget(dev pushDevice, k partyKey, next int) *pushTarget {
	return &pushTarget{p: s.pusher, dev: dev, key: k, next: next}
}

func (t *pushTarget) push(st status) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.waiting.keep(st) {
		t.emitLocked(st)
	}
}

// alive reports whether the device's notifications are deliverable: the
// chat server's liveness checks of the party are confirmed with it.
func (t *pushTarget) alive(time.Time) bool { return t.p.deliverable(t.dev.Type) }

func (t *pushTarget) keep() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.ended
}

func (t *pushTarget) hold() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.waiting.hold()
}

// release sends reply's new events, then the pushes that waited for it.
func (t *pushTarget) release(reply status) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.emitLocked(reply)
	for _, st := range t.waiting.take() {
		t.emitLocked(st)
	}
}

// emitLocked sends the events of st not sent yet. Typing notices are not
// notifications. t.mu must be held.
func (t *pushTarget) emitLocked(st status) {
	env := okEnvelope(st)
	msgs := env.Messages[:0:0]
	for _, m := range env.Messages {
		if m.Index < t.next || m.Type == transcript.TypingStarted || m.Type == transcript.TypingStopped {
			continue
		}
		t.next = m.Index + 1
		msgs = append(msgs, m)
	}
	end := env.ChatEnded && !t.ended
	if len(msgs) == 0 && !end {
		return
	}
	t.ended = t.ended || env.ChatEnded
	env.Messages, env.NextPosition, env.SecureKey = msgs, max(t.next, env.NextPosition), ""
	t.p.send(t.dev, env)
}

// notification is the body of a custom-http POST: the Chat API envelope
// of the new events, with the device it is for.
type notification struct {
	envelope
	DeviceID string `json:"deviceId"`
}

// pusher delivers the notifications of every push target of a web API:
// custom-http ones through one bounded queue and one goroutine, so that
// each device's notifications arrive in order.
type pusher struct {
	url     string
	retries int
	client  *http.Client
	log     *slog.Logger
	queue   chan []byte
	ok      atomic.Bool // the last custom-http delivery succeeded and none was dropped since
	warned  sync.Map    // push types logged as not delivered
}

func newPusher(o config.PushOptions, timeout time.Duration, log *slog.Logger) *pusher {
	p := &pusher{url: o.CustomHTTPURL, retries: o.CustomHTTPRetries, client: &http.Client{Timeout: timeout},
		log: log, queue: make(chan []byte, o.CustomHTTPQueue)}
	p.ok.Store(true) // no failure seen yet
	return p
}

// deliverable reports whether notifications of push type typ reach their
// device: for customhttp, a URL is set and the last POST succeeded with no
// notification dropped since; fcm and ios never are.
func (p *pusher) deliverable(typ string) bool {
	return typ == pushCustomHTTP && p.url != "" && p.ok.Load()
}

// send queues env for dev's device; it never blocks. A full queue drops the
// notification, and the web API's pushes count as undeliverable until the
// next POST succeeds.
func (p *pusher) send(dev pushDevice, env envelope) {
	if dev.Type != pushCustomHTTP || p.url == "" {
		if _, seen := p.warned.LoadOrStore(dev.Type, true); !seen {
			p.log.Warn("push notifications of this type are not configured here and are not delivered; the party's liveness is not confirmed once its CometD client is gone",
				"type", dev.Type)
		}
		return
	}
	body, err := json.Marshal(notification{envelope: env, DeviceID: dev.DeviceID})
	if err != nil {
		p.log.Error("push notification not encoded", "chat", env.ChatID, "err", err)
		return
	}
	select {
	case p.queue <- body:
	default:
		p.ok.Store(false)
		p.log.Warn("push queue full; notification dropped", "chat", env.ChatID, "queue", cap(p.queue))
	}
}

// run delivers queued notifications until ctx is done.
func (p *pusher) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case body := <-p.queue:
			p.deliver(ctx, body)
		}
	}
}

// deliver POSTs body, retrying [push] customhttp.retries times with a
// growing delay; it drops the notification when every attempt failed.
func (p *pusher) deliver(ctx context.Context, body []byte) {
	delay := pushRetryFirst
	for attempt := 0; ; attempt++ {
		err := p.post(ctx, body)
		if err == nil {
			p.ok.Store(true)
			return
		}
		if attempt >= p.retries || !sleep(ctx, delay) {
			p.ok.Store(false)
			p.log.Warn("push notification not delivered", "url", p.url, "attempts", attempt+1, "err", err)
			return
		}
		delay = min(2*delay, pushRetryMax)
	}
}

func (p *pusher) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16)) // lets the connection be reused
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webapi: push receiver answered %s", resp.Status)
	}
	return nil
}

// sleep waits for d and reports false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

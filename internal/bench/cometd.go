package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// cometPath is the web API's CometD endpoint.
const cometPath = "/genesys/cometd"

// errNoChat is returned when a CometD requestChat is answered with an error.
var errNoChat = errors.New("bench: requestChat failed")

// cometEndpoint makes CometD customers of one web API service.
type cometEndpoint struct {
	url       string // http://host:port/genesys/cometd
	channel   string // /service/chatV2/{service}
	transport Transport
	http      *http.Client // long-polling only
	// badEnvelopes counts error envelopes delivered, which CometD does not
	// tie to the publish that caused them.
	badEnvelopes atomic.Int64
}

func newCometEndpoint(target, service string, t Transport) *cometEndpoint {
	tr := &http.Transport{MaxIdleConnsPerHost: 4096}
	return &cometEndpoint{url: strings.TrimRight(target, "/") + cometPath, channel: "/service/chatV2/" + service,
		transport: t, http: &http.Client{Transport: tr}}
}

// cometCustomer is one customer over CometD: one Bayeux client subscribed
// to the service channel, where the replies to its operations and the
// chat's pushes arrive as envelopes.
type cometCustomer struct {
	e        *cometEndpoint
	bx       *bayeuxClient
	onEvents func([]event)
	opened   chan error // the requestChat's outcome, once

	mu    sync.Mutex // guards ref and ended
	ref   chatRef
	ended bool
}

// dial connects a new customer's Bayeux client, handshaken and subscribed.
func (e *cometEndpoint) dial(ctx context.Context, onEvents func([]event)) (*cometCustomer, error) {
	c := &cometCustomer{e: e, onEvents: onEvents, opened: make(chan error, 1)}
	var tr bxTransport
	if e.transport == WebSocket {
		ws, err := dialWS(ctx, e.url)
		if err != nil {
			return nil, err
		}
		tr = ws
	} else {
		tr = newPollTransport(e.url, e.http)
	}
	c.bx = newBayeuxClient(tr, c.delivered)
	if err := c.bx.handshake(ctx); err != nil {
		c.bx.close()
		return nil, err
	}
	if err := c.bx.subscribe(ctx, e.channel); err != nil {
		c.bx.close()
		return nil, err
	}
	return c, nil
}

// open requests a chat with data's fields and waits for its envelope.
func (c *cometCustomer) open(ctx context.Context, data map[string]any) error {
	data["operation"] = "requestChat"
	if err := c.bx.publish(ctx, c.e.channel, data); err != nil {
		return err
	}
	select {
	case err := <-c.opened:
		return err
	case <-ctx.Done():
		return fmt.Errorf("bench: requestChat: %w", ctx.Err())
	case <-c.bx.done:
		return c.bx.failure()
	}
}

// send publishes a sendMessage operation.
func (c *cometCustomer) send(ctx context.Context, text string) error {
	c.mu.Lock()
	r := c.ref
	c.mu.Unlock()
	return c.bx.publish(ctx, c.e.channel, map[string]any{"operation": "sendMessage", "message": text,
		"chatId": r.id, "userId": r.user, "secureKey": r.key, "alias": r.alias})
}

// delivered takes one envelope: the first with a chat id opens the chat,
// every one moves the customer on.
func (c *cometCustomer) delivered(_ string, data json.RawMessage) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		c.e.badEnvelopes.Add(1)
		return
	}
	if first := c.take(&env); first {
		if err := env.check(); err != nil {
			c.opened <- fmt.Errorf("%w: %w", errNoChat, err)
		} else {
			c.opened <- nil
		}
	}
	if env.check() != nil {
		c.e.badEnvelopes.Add(1)
		return
	}
	if len(env.Messages) > 0 && c.onEvents != nil {
		c.onEvents(env.Messages)
	}
}

// take records env's chat and alias, and reports whether it answers the
// requestChat (the first envelope, successful or not).
func (c *cometCustomer) take(env *envelope) (first bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	first = c.ref.id == "" && (env.ChatID != "" || env.check() != nil)
	if first && env.ChatID == "" {
		c.ref.id = "-" // refused: later envelopes are not an answer
		return true
	}
	if first {
		c.ref = chatRef{id: env.ChatID, user: env.UserID, key: env.SecureKey}
	}
	if env.Alias != "" {
		c.ref.alias = env.Alias
	}
	c.ended = c.ended || env.ChatEnded
	return first
}

// close ends the Bayeux client.
func (c *cometCustomer) close() { c.bx.close() }

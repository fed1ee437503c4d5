package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// requestTimeout bounds every request of the generator's clients.
const requestTimeout = 30 * time.Second

// errBayeuxClosed is returned by a Bayeux client's requests once it ended.
var errBayeuxClosed = errors.New("bench: bayeux client closed")

// bxMessage is one Bayeux message, either way.
type bxMessage struct {
	Channel                  string          `json:"channel"`
	ID                       string          `json:"id,omitempty"`
	ClientID                 string          `json:"clientId,omitempty"`
	Data                     json.RawMessage `json:"data,omitempty"`
	Successful               *bool           `json:"successful,omitempty"`
	Error                    string          `json:"error,omitempty"`
	Version                  string          `json:"version,omitempty"`
	ConnectionType           string          `json:"connectionType,omitempty"`
	SupportedConnectionTypes []string        `json:"supportedConnectionTypes,omitempty"`
	Subscription             json.RawMessage `json:"subscription,omitempty"`
}

// bxTransport carries a Bayeux client's messages. send returns what came
// back at once (a long-polling response); what comes later (websocket
// frames, held connects) the transport hands to bayeuxClient.process.
type bxTransport interface {
	connectionType() string
	// attach starts what reads for c, before its first send.
	attach(c *bayeuxClient)
	send(ctx context.Context, msgs ...bxMessage) ([]bxMessage, error)
	// startConnect keeps one /meta/connect held from now on.
	startConnect(c *bayeuxClient)
	close()
}

// bayeuxClient is one CometD client: a handshake, a /meta/connect always
// held, then subscriptions and publishes, answered by id. Messages with
// data that answer no request are deliveries, passed to deliver in arrival
// order. Its methods are safe for concurrent use.
type bayeuxClient struct {
	tr      bxTransport
	deliver func(channel string, data json.RawMessage)
	nextID  atomic.Uint64
	wg      sync.WaitGroup // the transport's goroutines

	mu      sync.Mutex // guards the fields below
	id      string     // clientId, once handshaken
	waiting map[string]chan bxMessage
	err     error         // why the client ended
	done    chan struct{} // closed when it ends
}

func newBayeuxClient(tr bxTransport, deliver func(string, json.RawMessage)) *bayeuxClient {
	c := &bayeuxClient{tr: tr, deliver: deliver, waiting: map[string]chan bxMessage{}, done: make(chan struct{})}
	tr.attach(c)
	return c
}

// handshake registers the client and starts its connect.
func (c *bayeuxClient) handshake(ctx context.Context) error {
	r, err := c.request(ctx, bxMessage{Channel: "/meta/handshake", Version: "1.0",
		SupportedConnectionTypes: []string{c.tr.connectionType()}})
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.id = r.ClientID
	c.mu.Unlock()
	c.tr.startConnect(c)
	return nil
}

// subscribe subscribes to channel.
func (c *bayeuxClient) subscribe(ctx context.Context, channel string) error {
	sub, _ := json.Marshal(channel)
	_, err := c.request(ctx, bxMessage{Channel: "/meta/subscribe", ClientID: c.clientID(), Subscription: sub})
	return err
}

// publish publishes data on channel and waits for its acknowledgement.
func (c *bayeuxClient) publish(ctx context.Context, channel string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	_, err = c.request(ctx, bxMessage{Channel: channel, ClientID: c.clientID(), Data: raw})
	return err
}

// connectMessage is the next /meta/connect.
func (c *bayeuxClient) connectMessage() bxMessage {
	return bxMessage{Channel: "/meta/connect", ClientID: c.clientID(), ConnectionType: c.tr.connectionType(),
		ID: c.newID()}
}

func (c *bayeuxClient) clientID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.id
}

func (c *bayeuxClient) newID() string { return strconv.FormatUint(c.nextID.Add(1), 10) }

// request sends m and waits for the reply with its id, at most
// requestTimeout; an unsuccessful reply is an error.
func (c *bayeuxClient) request(ctx context.Context, m bxMessage) (bxMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	m.ID = c.newID()
	ch := make(chan bxMessage, 1)
	c.mu.Lock()
	c.waiting[m.ID] = ch
	c.mu.Unlock()
	defer c.forget(m.ID)
	back, err := c.tr.send(ctx, m)
	if err != nil {
		return bxMessage{}, err
	}
	c.process(back)
	select {
	case r := <-ch:
		if r.Successful == nil || !*r.Successful {
			return r, fmt.Errorf("bench: %s refused: %s", m.Channel, r.Error)
		}
		return r, nil
	case <-ctx.Done():
		return bxMessage{}, fmt.Errorf("bench: %s: %w", m.Channel, ctx.Err())
	case <-c.done:
		return bxMessage{}, c.failure()
	}
}

func (c *bayeuxClient) forget(id string) {
	c.mu.Lock()
	delete(c.waiting, id)
	c.mu.Unlock()
}

// process dispatches messages that came back: replies to their request,
// connect replies to the transport's loop (by returning false when the
// connect failed), the rest to deliver.
func (c *bayeuxClient) process(msgs []bxMessage) (connectOK bool) {
	connectOK = true
	for _, m := range msgs {
		if m.Channel == "/meta/connect" {
			if m.Successful == nil || !*m.Successful {
				c.end(fmt.Errorf("bench: /meta/connect refused: %s", m.Error))
				connectOK = false
			}
			continue
		}
		if m.Successful != nil && c.answer(m) {
			continue
		}
		if m.Successful == nil && len(m.Data) > 0 && c.deliver != nil {
			c.deliver(m.Channel, m.Data)
		}
	}
	return connectOK
}

// answer hands a reply to its waiting request, and reports whether one was.
func (c *bayeuxClient) answer(m bxMessage) bool {
	c.mu.Lock()
	ch, ok := c.waiting[m.ID]
	c.mu.Unlock()
	if ok {
		ch <- m // capacity 1, one reply per id
	}
	return ok
}

// end records why the client ends, once, and wakes its requests.
func (c *bayeuxClient) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
		close(c.done)
	}
}

// failure returns why the client ended.
func (c *bayeuxClient) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// ended reports whether the client has ended.
func (c *bayeuxClient) ended() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// close disconnects (waiting at most a second for the server to agree),
// closes the transport and waits for its goroutines.
func (c *bayeuxClient) close() {
	if !c.ended() && c.clientID() != "" {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, _ = c.request(ctx, bxMessage{Channel: "/meta/disconnect", ClientID: c.clientID()})
		cancel()
	}
	c.end(errBayeuxClosed)
	c.tr.close()
	c.wg.Wait()
}

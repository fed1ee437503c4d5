package bayeux

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Client is one Bayeux client session, from its handshake to its removal.
// Its methods are safe for concurrent use.
type Client struct {
	id   string
	addr string // the remote IP address of its handshake
	srv  *Server
	done chan struct{} // closed on removal

	svcMu sync.Mutex // serializes the client's ServiceFunc calls

	subs map[string]struct{} // channels subscribed to; Server.mu guards it

	mu        sync.Mutex // guards the fields below
	gone      bool       // removed
	reason    error      // why it was removed
	onClose   []func(error)
	ext       map[string]any
	queue     [][]byte // encoded deliveries waiting for a connect reply
	pending   *pending // the /meta/connect being held, if any
	ws        *wsConn  // the websocket the client connects over, if any
	connected bool     // a /meta/connect has arrived since the handshake
	lastSeen  time.Time
}

// pending is a held /meta/connect.
type pending struct {
	id    json.RawMessage
	ws    *wsConn       // nil for long-polling
	timer *time.Timer   // websocket: answers the connect when it is due
	done  chan struct{} // long-polling: closed when it must be answered now
	final []byte        // the reply when released for another reason than a delivery
}

func newClient(s *Server, id string) *Client {
	return &Client{
		id:       id,
		srv:      s,
		done:     make(chan struct{}),
		subs:     make(map[string]struct{}),
		lastSeen: s.opts.Now(),
	}
}

// ID returns the clientId the client sends with its messages.
func (c *Client) ID() string { return c.id }

// Addr returns the IP address the client handshook from.
func (c *Client) Addr() string { return c.addr }

// Done is closed when the client has been removed.
func (c *Client) Done() <-chan struct{} { return c.done }

// Ext returns the ext field of the client's last handshake or disconnect
// that carried one, nil if none did. The map must not be modified.
func (c *Client) Ext() map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ext
}

// setExt records the ext of a handshake or disconnect.
func (c *Client) setExt(ext map[string]any) {
	if ext == nil {
		return
	}
	c.mu.Lock()
	c.ext = ext
	c.mu.Unlock()
}

// OnClose registers f to run once the client has been removed, with the
// reason: ErrDisconnected, ErrExpired, ErrOverflow or ErrServerClosed. f runs
// on a goroutine of its own, so it may take locks held by Deliver's callers;
// Server.Close waits for it, so it must not block for long nor call Close. When the client is already gone, f runs at
// once (still on its own goroutine).
func (c *Client) OnClose(f func(reason error)) {
	c.mu.Lock()
	if !c.gone {
		c.onClose = append(c.onClose, f)
		c.mu.Unlock()
		return
	}
	reason := c.reason
	c.mu.Unlock()
	c.srv.wg.Go(func() { f(reason) })
}

// Deliver queues a message with data (marshalled to JSON) on channel for
// this client only: it is written at once on the client's websocket, or
// completes its held long-polling /meta/connect, or goes with its next
// connect reply. It never blocks on the network. It returns ErrClientGone
// once the client has been removed, ErrOverflow when the message overflowed
// the client's queue (the client is then removed), or the marshalling error.
func (c *Client) Deliver(channel string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("bayeux: deliver on %s: %w", channel, err)
	}
	return c.DeliverJSON(channel, raw)
}

// DeliverJSON is Deliver for data already encoded, which is sent as it is:
// it must be one JSON value as json.Marshal writes it (compact, with <, >
// and & escaped in strings).
func (c *Client) DeliverJSON(channel string, data []byte) error {
	if !validChannel(channel) || isWild(channel) || isMeta(channel) {
		return fmt.Errorf("bayeux: deliver on %q: invalid channel", channel)
	}
	return c.deliver(encodeDelivery(channel, data))
}

// deliver queues one encoded delivery, removing the client on overflow.
func (c *Client) deliver(msg []byte) error {
	c.mu.Lock()
	err := c.deliverLocked(msg)
	c.mu.Unlock()
	if errors.Is(err, ErrOverflow) {
		c.srv.log.Debug("bayeux: client queue overflow", "client", c.id)
		c.srv.remove(c, ErrOverflow)
	}
	return err
}

// deliverLocked queues msg on the client's websocket, or on its own queue
// when it has none, waking a held long-polling connect. c.mu must be held.
func (c *Client) deliverLocked(msg []byte) error {
	if c.gone {
		return ErrClientGone
	}
	if c.ws != nil {
		err := c.ws.enqueue(msg)
		if !errors.Is(err, errConnClosed) {
			return err
		}
		c.ws = nil // the websocket is going: keep the message for the next connect
	}
	if len(c.queue) >= c.srv.opts.MaxQueue {
		return ErrOverflow
	}
	c.queue = append(c.queue, msg)
	if p := c.pending; p != nil && p.ws == nil {
		c.releaseLocked(p, nil)
	}
	return nil
}

// end marks the client removed for reason, answers its held connect, and
// returns the OnClose callbacks to run; none when it was already removed.
func (c *Client) end(reason error) []func(error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return nil
	}
	c.gone, c.reason = true, reason
	if p := c.pending; p != nil {
		c.releaseLocked(p, c.farewell(p, reason))
	}
	c.queue, c.ws = nil, nil
	close(c.done)
	fns := c.onClose
	c.onClose = nil
	return fns
}

// farewell is the reply to a connect held when the client is removed: after
// a disconnect, a plain success that tells the client not to reconnect;
// otherwise a 402 that tells it to handshake again.
func (c *Client) farewell(p *pending, reason error) []byte {
	if errors.Is(reason, ErrDisconnected) {
		return (&reply{Channel: "/meta/connect", ID: p.id, Successful: true, Advice: &advice{Reconnect: "none"}}).encode()
	}
	m := &message{Channel: "/meta/connect", ID: p.id, ClientID: c.id}
	return errorReply(m, errUnknownClient).encode()
}

// releaseLocked answers the held connect p: with final, or when final is
// nil with the queued deliveries and a successful reply. c.mu must be held.
func (c *Client) releaseLocked(p *pending, final []byte) {
	c.pending = nil
	c.lastSeen = c.srv.opts.Now()
	if p.ws == nil {
		p.final = final
		close(p.done) // the request holding p writes the answer
		return
	}
	p.timer.Stop()
	if final == nil {
		final = c.connectReply(p.id)
	}
	_ = p.ws.enqueue(final) // on a closing websocket the client reconnects anyway
}

// answerNow answers the long-polling connect p at once, as a connect
// that may not be held: with the queued deliveries and a reply whose
// advice asks the client to wait before its next connect.
func (c *Client) answerNow(p *pending, wait time.Duration) [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == p {
		c.pending = nil
		c.lastSeen = c.srv.opts.Now()
	}
	if p.final != nil {
		return [][]byte{p.final}
	}
	out := c.queue
	c.queue = nil
	adv := c.srv.advice()
	adv.Interval = ms(wait)
	return append(out, (&reply{Channel: "/meta/connect", ID: p.id, ClientID: c.id, Successful: true, Advice: adv}).encode())
}

// connectReply is the successful reply to the connect with id.
func (c *Client) connectReply(id json.RawMessage) []byte {
	return (&reply{Channel: "/meta/connect", ID: id, ClientID: c.id, Successful: true, Advice: c.srv.advice()}).encode()
}

// await holds the long-polling connect p until a delivery, its release,
// timeout or the end of ctx, and returns its answer: the queued deliveries
// and the connect reply (nothing when ctx ended: the deliveries stay queued).
func (c *Client) await(ctx context.Context, p *pending, timeout time.Duration) [][]byte {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
	case <-ctx.Done():
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == p {
		c.pending = nil
		c.lastSeen = c.srv.opts.Now()
	}
	switch {
	case p.final != nil:
		return [][]byte{p.final}
	case ctx.Err() != nil:
		return nil
	}
	out := c.queue
	c.queue = nil
	return append(out, c.connectReply(p.id))
}

// holdWSLocked attaches the client to conn, flushes its queue there, and
// holds the connect id for timeout, answering it at once when timeout is
// zero. It returns the reply to send now, if any. c.mu must be held.
func (c *Client) holdWSLocked(conn *wsConn, id json.RawMessage, timeout time.Duration) [][]byte {
	c.ws = conn
	conn.attach(c)
	for _, msg := range c.queue {
		_ = conn.enqueue(msg) // a closing websocket loses them, as it loses its pushes
	}
	c.queue = nil
	if timeout <= 0 {
		return [][]byte{c.connectReply(id)}
	}
	p := &pending{id: id, ws: conn}
	p.timer = time.AfterFunc(timeout, func() { c.timeUp(p) })
	c.pending = p
	return nil
}

// timeUp answers the websocket connect p when its timeout has passed.
func (c *Client) timeUp(p *pending) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == p {
		c.releaseLocked(p, nil)
	}
}

// detach forgets conn, which has ended, and the connect held on it.
func (c *Client) detach(conn *wsConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ws == conn {
		c.ws = nil
	}
	if p := c.pending; p != nil && p.ws == conn {
		p.timer.Stop()
		c.pending = nil
		c.lastSeen = c.srv.opts.Now()
	}
}

// expired reports whether the client has had no connect held or arriving
// for longer than maxInterval at now.
func (c *Client) expired(now time.Time, maxInterval time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.gone && c.pending == nil && now.Sub(c.lastSeen) > maxInterval
}

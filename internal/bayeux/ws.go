package bayeux

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// errConnClosed is returned by wsConn.enqueue once the websocket is ending.
var errConnClosed = errors.New("bayeux: websocket closed")

// closeTimeout bounds a graceful websocket close: past it the socket is cut.
const closeTimeout = 3 * time.Second

// maxFrame is the size past which the writer starts a new frame.
const maxFrame = 64 << 10

// wsConn is one websocket. Its reader runs on the HTTP handler's goroutine
// and serves the messages of each frame in order; its writer goroutine
// drains a bounded queue of encoded messages, joining what was queued
// together into one JSON array per frame. Producers only enqueue.
type wsConn struct {
	srv  *Server
	ws   *websocket.Conn
	addr string // the client's IP address

	// ctx ends when the connection is cut; reads and the services called
	// from its messages run under it. Writes do not, as the library arms a
	// context watch per call, allocating on each frame: the cut closes the
	// socket under a blocked write through the reader's Read, which the
	// reader is back in once the message it serves (under ctx) returns, or
	// through serve once the reader is done.
	ctx     context.Context
	cancel  context.CancelFunc
	wake    chan struct{} // capacity 1: the queue has messages
	closing chan struct{} // closed by shutdown: drain, then close

	mu      sync.Mutex // guards the fields below
	queue   [][]byte
	ended   bool // no more enqueues
	drain   bool // shutdown: write what is queued, then close
	clients map[*Client]struct{}
	timer   *time.Timer // cuts a graceful close that takes too long
}

// serveWebsocket upgrades r and serves the websocket until it ends.
func (s *Server) serveWebsocket(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		http.Error(w, "bayeux: server closed", http.StatusServiceUnavailable)
		return
	}
	// With CheckOrigin, ServeHTTP has checked the Origin already: the
	// library's own check (Origin host = Host) would only refuse the other
	// allowed origins.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: s.opts.CheckOrigin != nil})
	if err != nil {
		s.log.Debug("bayeux: websocket accept", "err", err)
		return // Accept has written the HTTP error
	}
	ws.SetReadLimit(maxBatchFactor * s.opts.MaxMessageSize)
	conn, full := s.track(ws, remoteHost(r))
	if conn == nil { // closed since the check above, or too many from addr
		if full {
			s.opts.Refused(RefusedClients)
		}
		_ = ws.CloseNow()
		return
	}
	defer s.wg.Done()
	conn.serve()
}

// track registers a new connection on ws, unless the server is closed or
// addr has MaxClientsPerAddr websockets already (full).
func (s *Server) track(ws *websocket.Conn, addr string) (conn *wsConn, full bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.MaxClientsPerAddr > 0 && s.wsByAddr[addr] >= s.opts.MaxClientsPerAddr {
		return nil, true
	}
	if s.closed {
		return nil, false
	}
	s.wsByAddr[addr]++
	ctx, cancel := context.WithCancel(context.Background())
	conn = &wsConn{
		srv: s, ws: ws, addr: addr, ctx: ctx, cancel: cancel,
		wake:    make(chan struct{}, 1),
		closing: make(chan struct{}),
		clients: make(map[*Client]struct{}),
	}
	s.conns[conn] = struct{}{}
	s.wg.Add(1) // under s.mu, so before Close can Wait
	return conn, false
}

// serve runs the reader until the connection ends, then cleans up.
func (c *wsConn) serve() {
	var wg sync.WaitGroup
	wg.Go(c.writeLoop)
	err := c.readLoop()
	c.srv.log.Debug("bayeux: websocket ended", "err", err)
	c.fail()
	_ = c.ws.CloseNow() // with no reader left to, this ends a write blocked on the peer
	wg.Wait()
	c.detachAll()
	c.srv.mu.Lock()
	delete(c.srv.conns, c)
	if c.srv.wsByAddr[c.addr]--; c.srv.wsByAddr[c.addr] <= 0 {
		delete(c.srv.wsByAddr, c.addr)
	}
	c.srv.mu.Unlock()
}

// readLoop serves each frame until reading fails.
func (c *wsConn) readLoop() error {
	for {
		_, data, err := c.ws.Read(c.ctx)
		if err != nil {
			return err
		}
		msgs, err := decode(data, c.srv.opts.MaxMessageSize)
		if err != nil {
			c.enqueueAll([][]byte{errorReply(&message{}, errorf(codeBadMessage, "frame is not JSON")).encode()})
			continue
		}
		out, _ := c.srv.process(c.ctx, msgs, c, c.addr)
		c.enqueueAll(out)
	}
}

// enqueue queues one encoded message. It never blocks. It returns
// errConnClosed once the connection is ending, and ErrOverflow when the
// queue is full, which also cuts the connection: its peer reads too slowly.
func (c *wsConn) enqueue(msg []byte) error {
	c.mu.Lock()
	switch {
	case c.ended:
		c.mu.Unlock()
		return errConnClosed
	case len(c.queue) >= c.srv.opts.MaxQueue:
		c.mu.Unlock()
		c.fail()
		return ErrOverflow
	}
	c.queue = append(c.queue, msg)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default: // the writer is already due to wake
	}
	return nil
}

// enqueueAll queues replies; a closing connection drops them.
func (c *wsConn) enqueueAll(msgs [][]byte) {
	for _, m := range msgs {
		if c.enqueue(m) != nil {
			return
		}
	}
}

// attach records that cl connects over this websocket.
func (c *wsConn) attach(cl *Client) {
	c.mu.Lock()
	c.clients[cl] = struct{}{}
	c.mu.Unlock()
}

// detachAll tells the clients of the ended connection that it is gone.
func (c *wsConn) detachAll() {
	c.mu.Lock()
	clients := c.clients
	c.clients = nil
	c.mu.Unlock()
	for cl := range clients {
		cl.detach(c)
	}
}

// shutdown starts a graceful close: what is queued is written, then the
// close handshake runs, all within closeTimeout.
func (c *wsConn) shutdown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	c.ended, c.drain = true, true
	c.timer = time.AfterFunc(closeTimeout, c.fail)
	close(c.closing)
}

// fail cuts the connection at once. It is idempotent.
func (c *wsConn) fail() {
	c.mu.Lock()
	c.ended = true
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	c.cancel() // the library closes the socket under a cancelled read
}

// writeLoop drains the queue until the connection ends; after shutdown it
// writes what was queued, then runs the close handshake.
func (c *wsConn) writeLoop() {
	var buf []byte
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.wake:
		case <-c.closing:
		}
		batch, drained := c.take()
		var err error
		if buf, err = c.writeBatch(buf, batch); err != nil {
			c.fail()
			return
		}
		if drained {
			_ = c.ws.Close(websocket.StatusGoingAway, "server closed")
			c.fail()
			return
		}
	}
}

// take empties the queue and reports whether it was the last batch of a
// graceful close.
func (c *wsConn) take() ([][]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	batch := c.queue
	c.queue = nil
	return batch, c.drain
}

// writeBatch writes msgs as JSON arrays of up to maxFrame bytes (or one
// larger message alone). It returns buf for reuse.
func (c *wsConn) writeBatch(buf []byte, msgs [][]byte) ([]byte, error) {
	for len(msgs) > 0 {
		n, size := 1, len(msgs[0])
		for ; n < len(msgs) && size+1+len(msgs[n]) <= maxFrame; n++ {
			size += 1 + len(msgs[n])
		}
		buf = joinArray(buf[:0], msgs[:n])
		if err := c.ws.Write(context.Background(), websocket.MessageText, buf); err != nil {
			return buf, err
		}
		msgs = msgs[n:]
	}
	if cap(buf) > 2*maxFrame {
		buf = nil // do not keep a huge buffer for one big message
	}
	return buf, nil
}

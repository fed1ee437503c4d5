package wire

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// ErrClosed is returned by Send, Request and Serve once the connection is
// closed or closing; Err wraps it when the connection ended normally.
var ErrClosed = errors.New("wire: connection closed")

// ErrSlowConsumer is why a connection ended when the peer read so slowly that
// its outgoing queue filled up.
var ErrSlowConsumer = errors.New("wire: slow consumer")

// ErrPingTimeout is why a connection ended when the peer did not answer a
// keep-alive ping within Options.PingInterval.
var ErrPingTimeout = errors.New("wire: peer did not answer ping")

// errServing is returned by a second call to Serve.
var errServing = errors.New("wire: Serve already called")

// closeTimeout bounds a graceful close: past it the socket is cut.
const closeTimeout = 3 * time.Second

// Options configures a connection. The zero value is usable.
type Options struct {
	// MaxMessageSize is the largest message accepted, in bytes; larger ones
	// are answered with CodeTooLarge and skipped. Zero means 65536.
	MaxMessageSize int64
	// QueueSize bounds the outgoing queue, in messages. A peer that lets it
	// fill is a slow consumer and is disconnected; a sender never blocks.
	// Zero means 1024.
	QueueSize int
	// PingInterval is the keep-alive period: a WebSocket ping is sent every
	// PingInterval and the connection is closed when its pong has not come
	// back within PingInterval. Zero turns pings off.
	PingInterval time.Duration
	// OriginPatterns lists the hosts of browser pages allowed to connect from
	// another origin (Accept only, see websocket.AcceptOptions). Nil means
	// the same origin only.
	OriginPatterns []string
	// Logger receives connection events at debug level. Nil discards them.
	Logger *slog.Logger
	// TLS is the client configuration of a wss:// Dial (trusted roots, the
	// client certificate). Nil uses the system's roots.
	TLS *tls.Config
}

// withDefaults returns o with its zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 65536
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 1024
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Handler serves the requests and unsolicited events of a connection.
// ServeWire is called on the connection's read goroutine, in arrival order:
// it must not block for long, and hands any I/O off, replying later with
// Conn.Reply. ctx ends when the connection does.
type Handler interface {
	ServeWire(ctx context.Context, c *Conn, m Message)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, c *Conn, m Message)

// ServeWire calls f.
func (f HandlerFunc) ServeWire(ctx context.Context, c *Conn, m Message) { f(ctx, c, m) }

// Conn is one connection. Serve runs its reader on the caller's goroutine
// and owns a writer goroutine, which drains a bounded queue and batches what
// is queued together into one frame, and a ping goroutine. Send, Reply,
// Notify and Request only enqueue: they are safe for concurrent use and never
// touch the socket. A Conn that is never served must be closed.
type Conn struct {
	ws   *websocket.Conn
	opts Options
	log  *slog.Logger

	// ctx ends when the connection has ended, its cause being Err. Every
	// socket operation runs under it, so cancelling it cuts the socket.
	ctx     context.Context
	cancel  context.CancelCauseFunc
	closing chan struct{} // closed on a graceful close: drain, then close
	wake    chan struct{} // capacity 1: the queue has messages

	nextRef     atomic.Uint64
	peerVersion int // the peer's Version, set before the connection is shared

	mu         sync.Mutex // guards the fields below
	queue      [][]byte   // encoded messages waiting for the writer
	served     bool       // Serve has been called
	ended      bool       // no more sends: closing or closed
	cause      error      // why the connection ends; the first reason wins
	closeTimer *time.Timer

	pendMu  sync.Mutex              // guards pending
	pending map[uint64]chan Message // requests waiting for a reply, by ref
}

// Accept upgrades an HTTP request to a connection (server side).
func Accept(w http.ResponseWriter, r *http.Request, opts Options) (*Conn, error) {
	w.Header().Set(VersionHeader, strconv.Itoa(Version))
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: opts.OriginPatterns})
	if err != nil {
		return nil, fmt.Errorf("wire: accept: %w", err)
	}
	c := newConn(ws, opts)
	c.peerVersion = headerVersion(r.Header)
	return c, nil
}

// Dial opens a connection to a ws:// or wss:// url (client side).
func Dial(ctx context.Context, url string, opts Options) (*Conn, error) {
	dopts := &websocket.DialOptions{HTTPHeader: http.Header{VersionHeader: {strconv.Itoa(Version)}}}
	if opts.TLS != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// A WebSocket upgrade is HTTP/1.1; the configuration is cloned
		// because a transport writes into its own (callers share theirs).
		tr.ForceAttemptHTTP2 = false
		tr.TLSClientConfig = opts.TLS.Clone()
		dopts.HTTPClient = &http.Client{Transport: tr}
	}
	ws, resp, err := websocket.Dial(ctx, url, dopts)
	if err != nil {
		return nil, fmt.Errorf("wire: dial %s: %w", url, err)
	}
	c := newConn(ws, opts)
	c.peerVersion = headerVersion(resp.Header)
	return c, nil
}

func newConn(ws *websocket.Conn, opts Options) *Conn {
	opts = opts.withDefaults()
	// The reader enforces MaxMessageSize per message itself, streaming each
	// frame, so the library's per-frame limit (which closes the socket) is off.
	ws.SetReadLimit(-1)
	ctx, cancel := context.WithCancelCause(context.Background())
	return &Conn{
		ws:      ws,
		opts:    opts,
		log:     opts.Logger,
		ctx:     ctx,
		cancel:  cancel,
		closing: make(chan struct{}),
		wake:    make(chan struct{}, 1),
		pending: make(map[uint64]chan Message),
	}
}

// Serve reads the connection until it ends or ctx is done, and then closes
// it; it returns Err. Requests and unsolicited events go to h; replies whose
// ref matches a pending Request complete it instead. A message that fails
// Decode, or is larger than MaxMessageSize, is answered with EventError and
// the connection goes on. Serve may be called once.
func (c *Conn) Serve(ctx context.Context, h Handler) error {
	if err := c.start(); err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Go(c.writeLoop)
	if c.opts.PingInterval > 0 {
		wg.Go(c.pingLoop)
	}
	stop := context.AfterFunc(ctx, func() { c.shutdown(ctx.Err()) })
	hctx, cancel := context.WithCancel(ctx)
	err := c.readLoop(hctx, h)
	cancel()
	stop()
	c.fail(err)
	wg.Wait()
	return c.Err()
}

// start marks the connection served.
func (c *Conn) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.ended:
		return ErrClosed
	case c.served:
		return errServing
	}
	c.served = true
	return nil
}

// Close closes the connection gracefully: messages already queued are
// written, then the WebSocket close handshake runs, bounded by a few seconds.
// Close does not wait for the end: use Done. It is idempotent.
func (c *Conn) Close() error {
	c.shutdown(ErrClosed)
	return nil
}

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.ctx.Done() }

// Err returns why the connection ended, nil while it has not: ErrClosed
// (possibly wrapped) for a normal close by either side, ErrSlowConsumer,
// ErrPingTimeout, the Serve context's error, or a wrapped read or write error.
func (c *Conn) Err() error {
	if c.ctx.Err() == nil {
		return nil
	}
	return context.Cause(c.ctx)
}

// shutdown starts a graceful close for cause. The writer finishes it when
// Serve runs; otherwise nothing needs draining and the socket is cut.
func (c *Conn) shutdown(cause error) {
	c.mu.Lock()
	first := c.end(cause)
	served := c.served
	if first && served {
		c.closeTimer = time.AfterFunc(closeTimeout, func() { c.fail(ErrClosed) })
	}
	c.mu.Unlock()
	if !first {
		return
	}
	close(c.closing)
	if !served {
		c.finish()
	}
}

// fail ends the connection at once for cause.
func (c *Conn) fail(cause error) {
	c.mu.Lock()
	c.end(cause)
	c.mu.Unlock()
	c.finish()
}

// end records cause if it is the first, and reports whether it was.
// c.mu must be held.
func (c *Conn) end(cause error) bool {
	if c.ended {
		return false
	}
	c.ended = true
	c.cause = cause
	return true
}

// finish cuts the socket and marks the connection done. It is idempotent.
func (c *Conn) finish() {
	c.mu.Lock()
	cause := c.cause
	if c.closeTimer != nil {
		c.closeTimer.Stop()
	}
	c.mu.Unlock()
	// Cancelling first makes an in-flight read or write close the socket, so
	// that CloseNow does not wait on a close handshake in progress.
	c.cancel(cause)
	_ = c.ws.CloseNow()
	c.log.Debug("wire: connection ended", "cause", cause)
}

// readLoop reads frames until the connection fails, dispatching each
// message; it returns the read error.
func (c *Conn) readLoop(ctx context.Context, h Handler) error {
	sp := newSplitter(c.opts.MaxMessageSize)
	for {
		_, r, err := c.ws.Reader(c.ctx)
		if err != nil {
			return readError(err)
		}
		sp.reset(r)
		for {
			line, tooLarge, err := sp.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return readError(err)
			}
			c.dispatch(ctx, h, line, tooLarge)
		}
	}
}

// readError classifies the error that ended the read loop.
func readError(err error) error {
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway:
		return fmt.Errorf("%w by peer", ErrClosed)
	}
	return fmt.Errorf("wire: read: %w", err)
}

// dispatch handles one received message: an error reply if it is bad, the
// completion of a Request if it is its reply, the handler otherwise.
func (c *Conn) dispatch(ctx context.Context, h Handler, line []byte, tooLarge bool) {
	if tooLarge {
		m, _ := Decode(line) // a prefix: only its ref, when readable, is of use
		c.reject(m, Errorf(CodeTooLarge, "message larger than %d bytes", c.opts.MaxMessageSize))
		return
	}
	if isBlank(line) {
		return
	}
	m, err := Decode(line)
	if err != nil {
		c.reject(m, err)
		return
	}
	if m.Ref != 0 && isReply(m.Name) && c.complete(m) {
		return
	}
	h.ServeWire(ctx, c, m)
}

// reject answers a bad message with EventError.
func (c *Conn) reject(m Message, err error) {
	c.log.Debug("wire: bad message", "ref", m.Ref, "err", err)
	if err := c.ReplyError(m, err); err != nil {
		c.log.Debug("wire: error reply not sent", "err", err)
	}
}

func isBlank(b []byte) bool {
	for _, ch := range b {
		if ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n' {
			return false
		}
	}
	return true
}

// pingLoop pings the peer every PingInterval and fails the connection when
// a pong does not come back in time.
func (c *Conn) pingLoop() {
	t := time.NewTicker(c.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.closing:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(c.ctx, c.opts.PingInterval)
		err := c.ws.Ping(ctx)
		cancel()
		if err != nil {
			c.fail(fmt.Errorf("%w: %w", ErrPingTimeout, err))
			return
		}
	}
}

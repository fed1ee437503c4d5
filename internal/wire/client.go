package wire

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"
)

// ErrNotConnected is returned by Client.Request while the client has no
// connection; callers decide whether to fail over.
var ErrNotConnected = errors.New("wire: not connected")

// ClientOptions configures a Client.
type ClientOptions struct {
	Options
	// OnConnect, when set, runs on each new connection, already served,
	// before the client reports itself connected: it registers, subscribes,
	// and so on. An error closes the connection and a redial follows.
	OnConnect func(ctx context.Context, c *Conn) error
	// MinBackoff is the first wait before a redial. Zero means 50ms.
	MinBackoff time.Duration
	// MaxBackoff caps the wait, which doubles after each failed attempt.
	// Zero means 5s.
	MaxBackoff time.Duration
}

// Client is a connection that redials: a web API to each chat server, an
// agent desktop to its server. Its methods are safe for concurrent use.
type Client struct {
	url  string
	h    Handler
	opts ClientOptions

	mu   sync.Mutex // guards conn
	conn *Conn      // the current connection once OnConnect succeeded, or nil
}

// NewClient returns a client of url whose incoming requests and events go to
// h. It does nothing until Run.
func NewClient(url string, h Handler, opts ClientOptions) *Client {
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 50 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.MinBackoff)
	opts.Options = opts.withDefaults()
	return &Client{url: url, h: h, opts: opts}
}

// Run dials, serves the connection, and redials after it ends, waiting a
// jittered exponential backoff between attempts, until ctx is done; it then
// closes the connection and returns nil.
func (cl *Client) Run(ctx context.Context) error {
	backoff := cl.opts.MinBackoff
	for ctx.Err() == nil {
		if cl.session(ctx) {
			backoff = cl.opts.MinBackoff
		} else {
			backoff = min(2*backoff, cl.opts.MaxBackoff)
		}
		wait(ctx, jitter(backoff))
	}
	return nil
}

// session runs one connection to its end, and reports whether it got as far
// as connected.
func (cl *Client) session(ctx context.Context) bool {
	c, err := Dial(ctx, cl.url, cl.opts.Options)
	if err != nil {
		cl.opts.Logger.Debug("wire: dial failed", "url", cl.url, "err", err)
		return false
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { _ = c.Serve(ctx, cl.h) })
	if cl.opts.OnConnect != nil {
		if err := cl.opts.OnConnect(ctx, c); err != nil {
			cl.opts.Logger.Debug("wire: on connect failed", "url", cl.url, "err", err)
			_ = c.Close()
			return false
		}
	}
	cl.set(c)
	defer cl.set(nil)
	<-c.Done()
	return true
}

func (cl *Client) set(c *Conn) {
	cl.mu.Lock()
	cl.conn = c
	cl.mu.Unlock()
}

// Conn returns the current connection, or nil while disconnected.
func (cl *Client) Conn() *Conn {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.conn
}

// Connected reports whether the client has a connection now.
func (cl *Client) Connected() bool { return cl.Conn() != nil }

// Request is Conn.Request on the current connection. It returns
// ErrNotConnected at once while there is none.
func (cl *Client) Request(ctx context.Context, name string, body any, reply any) (Message, error) {
	c := cl.Conn()
	if c == nil {
		return Message{}, ErrNotConnected
	}
	return c.Request(ctx, name, body, reply)
}

// jitter returns a duration between d/2 and d, so that clients cut off
// together do not redial together.
func jitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(d-half+1)
}

// wait sleeps for d or until ctx is done.
func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

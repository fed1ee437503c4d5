package wire

import (
	"fmt"
	"time"

	"github.com/coder/websocket"
)

// maxBatch is the size past which the writer starts a new frame. Receivers
// limit each message, not each frame, so it need not match their limit.
const maxBatch = 64 << 10

// Send enqueues m as is. It never blocks. It returns ErrClosed once the
// connection is closing, *Error CodeTooLarge when m encodes to more than
// MaxMessageSize, and ErrSlowConsumer when the queue is full, which also
// closes the connection.
func (c *Conn) Send(m Message) error {
	frame, err := encodeMessage(m)
	if err != nil {
		return fmt.Errorf("wire: encode %s: %w", m.Name, err)
	}
	return c.enqueue(frame)
}

// Reply sends name with body (marshalled to a JSON object, or nil) as the
// reply to req: it carries req's ref. Errors are Send's, or the marshalling
// error.
func (c *Conn) Reply(req Message, name string, body any) error {
	return c.send(name, req.Ref, body)
}

// ReplyError replies EventError to req with AsError(err) as body: an *Error
// goes as is, anything else as CodeInternal.
func (c *Conn) ReplyError(req Message, err error) error {
	return c.send(EventError, req.Ref, AsError(err))
}

// Notify sends an unsolicited event (ref 0).
func (c *Conn) Notify(name string, body any) error {
	return c.send(name, 0, body)
}

func (c *Conn) send(name string, ref uint64, body any) error {
	frame, err := encode(name, ref, body)
	if err != nil {
		return fmt.Errorf("wire: encode %s: %w", name, err)
	}
	return c.enqueue(frame)
}

// enqueue queues one encoded message for the writer.
func (c *Conn) enqueue(frame []byte) error {
	if int64(len(frame)) > c.opts.MaxMessageSize {
		return Errorf(CodeTooLarge, "message of %d bytes exceeds %d", len(frame), c.opts.MaxMessageSize)
	}
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return ErrClosed
	}
	if len(c.queue) >= c.opts.QueueSize {
		c.mu.Unlock()
		c.log.Debug("wire: slow consumer", "queued", c.opts.QueueSize)
		c.fail(ErrSlowConsumer)
		return ErrSlowConsumer
	}
	c.queue = append(c.queue, frame)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default: // the writer is already due to wake
	}
	return nil
}

// coalesceWindow is the least time between two writes of a connection. A
// message queued within it of the last write waits for the rest of it, so
// that under load one frame, and one system call on each side, carries the
// messages of many sessions; a message on an idle connection goes at once.
// Each write costs both ends a system call and, over loopback, a wake-up,
// whatever its size.
const coalesceWindow = time.Millisecond

// writeLoop drains the queue until the connection ends; after a graceful
// close it writes what was queued before, then runs the close handshake.
func (c *Conn) writeLoop() {
	var spare [][]byte
	buf := make([]byte, 0, 4096)
	pause := time.NewTimer(0)
	defer pause.Stop()
	var last time.Time
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.wake:
		case <-c.closing:
		}
		if !c.coalesce(pause, last) {
			return
		}
		last = time.Now()
		batch, ended := c.take(spare)
		var err error
		if buf, err = c.writeBatch(buf, batch); err != nil {
			c.fail(fmt.Errorf("wire: write: %w", err))
			return
		}
		clear(batch) // drop references to written messages
		spare = batch[:0]
		if ended {
			c.closeGracefully()
			return
		}
	}
}

// coalesce waits, on pause, until coalesceWindow has passed since the last
// write, unless the connection is closing. It reports false if the
// connection ended meanwhile.
func (c *Conn) coalesce(pause *time.Timer, last time.Time) bool {
	wait := coalesceWindow - time.Since(last)
	if wait <= 0 {
		return true
	}
	pause.Reset(wait)
	select {
	case <-pause.C:
	case <-c.closing:
	case <-c.ctx.Done():
		return false
	}
	return true
}

// take swaps the queue for spare and returns what was queued, and whether no
// more messages can come.
func (c *Conn) take(spare [][]byte) ([][]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	batch := c.queue
	c.queue = spare
	return batch, c.ended
}

// writeBatch writes the messages, joining consecutive ones with '\n' into
// frames of up to maxBatch bytes. It returns buf for reuse.
func (c *Conn) writeBatch(buf []byte, batch [][]byte) ([]byte, error) {
	for len(batch) > 0 {
		buf = append(buf[:0], batch[0]...)
		n := 1
		for ; n < len(batch) && len(buf)+1+len(batch[n]) <= maxBatch; n++ {
			buf = append(buf, '\n')
			buf = append(buf, batch[n]...)
		}
		if err := c.ws.Write(c.ctx, websocket.MessageText, buf); err != nil {
			return buf, err
		}
		batch = batch[n:]
	}
	if cap(buf) > maxBatch {
		buf = make([]byte, 0, 4096) // do not keep a huge buffer for one big message
	}
	return buf, nil
}

// closeGracefully runs the close handshake and ends the connection.
func (c *Conn) closeGracefully() {
	err := c.ws.Close(websocket.StatusNormalClosure, "")
	if err != nil {
		c.log.Debug("wire: close handshake", "err", err)
	}
	c.fail(ErrClosed) // the cause recorded by the close stays
}

package wire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Request sends name with body under the next ref and waits for the reply
// with that ref, ctx, or the end of the connection. An EventError reply is
// returned as its *Error; any other reply has its body unmarshalled into
// reply (when reply is non-nil and the body is not empty) and is returned.
// When the connection ends first the error wraps ErrClosed and Err.
// Request needs Serve running to receive the reply; it is safe for
// concurrent use.
func (c *Conn) Request(ctx context.Context, name string, body any, reply any) (Message, error) {
	ref := c.nextRef.Add(1)
	frame, err := encode(name, ref, body)
	if err != nil {
		return Message{}, fmt.Errorf("wire: encode %s: %w", name, err)
	}
	ch := make(chan Message, 1)
	c.pendMu.Lock()
	c.pending[ref] = ch
	c.pendMu.Unlock()
	defer c.forget(ref)
	if err := c.enqueue(frame); err != nil {
		return Message{}, err
	}
	m, err := c.await(ctx, ch)
	if err != nil {
		return Message{}, fmt.Errorf("wire: %s ref %d: %w", name, ref, err)
	}
	return m, unpack(m, reply)
}

// await waits for the reply on ch.
func (c *Conn) await(ctx context.Context, ch <-chan Message) (Message, error) {
	select {
	case m := <-ch:
		return m, nil
	case <-ctx.Done():
		return Message{}, ctx.Err()
	case <-c.Done():
	}
	select {
	case m := <-ch: // the reply came just before the end
		return m, nil
	default:
	}
	if cause := c.Err(); !errors.Is(cause, ErrClosed) {
		return Message{}, fmt.Errorf("%w: %w", ErrClosed, cause)
	}
	return Message{}, c.Err()
}

// unpack turns an EventError reply into its *Error, and decodes any other
// reply's body into reply. Replies are decoded leniently: a newer peer may
// add fields.
func unpack(m Message, reply any) error {
	if m.Name == EventError {
		e := &Error{}
		if err := json.Unmarshal(m.Body, e); err != nil || e.Code == 0 {
			return Errorf(CodeMalformed, "malformed EventError")
		}
		return e
	}
	if reply == nil || len(m.Body) == 0 {
		return nil
	}
	if u, ok := reply.(json.Unmarshaler); ok {
		// What json.Unmarshal would call, without its two passes over a
		// body that Decode has already found to be valid JSON.
		if err := u.UnmarshalJSON(m.Body); err != nil {
			return fmt.Errorf("wire: decode %s: %w", m.Name, err)
		}
		return nil
	}
	if err := json.Unmarshal(m.Body, reply); err != nil {
		return fmt.Errorf("wire: decode %s: %w", m.Name, err)
	}
	return nil
}

// forget drops the pending request ref.
func (c *Conn) forget(ref uint64) {
	c.pendMu.Lock()
	delete(c.pending, ref)
	c.pendMu.Unlock()
}

// complete hands m to the Request waiting for its ref, and reports whether
// one was.
func (c *Conn) complete(m Message) bool {
	c.pendMu.Lock()
	ch, ok := c.pending[m.Ref]
	delete(c.pending, m.Ref)
	c.pendMu.Unlock()
	if ok {
		ch <- m // capacity 1, and each ref completes once
	}
	return ok
}

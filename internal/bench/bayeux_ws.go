package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/coder/websocket"
)

// maxFrame bounds a websocket frame the generator reads.
const maxFrame = 1 << 20

// wsTransport carries a Bayeux client over one websocket. A reader
// goroutine processes frames and sends the next /meta/connect as soon as
// the held one is answered.
type wsTransport struct {
	ws *websocket.Conn
}

// dialWS opens the websocket of a client of the CometD endpoint url
// (http://host:port/genesys/cometd).
func dialWS(ctx context.Context, url string) (*wsTransport, error) {
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http"), nil)
	if err != nil {
		return nil, fmt.Errorf("bench: dial %s: %w", url, err)
	}
	ws.SetReadLimit(maxFrame)
	return &wsTransport{ws: ws}, nil
}

func (t *wsTransport) connectionType() string { return "websocket" }

// send writes msgs as one frame; replies come back through the reader.
func (t *wsTransport) send(ctx context.Context, msgs ...bxMessage) ([]bxMessage, error) {
	b, err := json.Marshal(msgs)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if err := t.ws.Write(ctx, websocket.MessageText, b); err != nil {
		return nil, fmt.Errorf("bench: websocket write: %w", err)
	}
	return nil, nil
}

// attach starts the reader.
func (t *wsTransport) attach(c *bayeuxClient) { c.wg.Go(func() { t.read(c) }) }

// startConnect sends the first /meta/connect; the reader sends the next
// ones.
func (t *wsTransport) startConnect(c *bayeuxClient) {
	if _, err := t.send(context.Background(), c.connectMessage()); err != nil {
		c.end(err)
	}
}

// read processes frames until the websocket ends, re-sending /meta/connect
// after each reply to it.
func (t *wsTransport) read(c *bayeuxClient) {
	ctx := context.Background()
	for {
		_, b, err := t.ws.Read(ctx)
		if err != nil {
			c.end(fmt.Errorf("bench: websocket read: %w", err))
			return
		}
		var msgs []bxMessage
		if err := json.Unmarshal(b, &msgs); err != nil {
			c.end(fmt.Errorf("bench: bad bayeux frame: %w", err))
			return
		}
		if !c.process(msgs) {
			return
		}
		if hasConnect(msgs) && !c.ended() {
			if _, err := t.send(ctx, c.connectMessage()); err != nil {
				c.end(err)
				return
			}
		}
	}
}

func hasConnect(msgs []bxMessage) bool {
	for _, m := range msgs {
		if m.Channel == "/meta/connect" {
			return true
		}
	}
	return false
}

func (t *wsTransport) close() { _ = t.ws.CloseNow() }

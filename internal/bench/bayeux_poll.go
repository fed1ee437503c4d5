package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// pollTransport carries a Bayeux client over HTTP long polling: each send
// is a POST whose response is processed at once; a loop goroutine keeps a
// /meta/connect POST held.
type pollTransport struct {
	url    string
	http   *http.Client
	ctx    context.Context // ends the connect loop
	cancel context.CancelFunc
}

func newPollTransport(url string, client *http.Client) *pollTransport {
	ctx, cancel := context.WithCancel(context.Background())
	return &pollTransport{url: url, http: client, ctx: ctx, cancel: cancel}
}

func (t *pollTransport) connectionType() string { return "long-polling" }

// attach does nothing: each send reads its own response.
func (t *pollTransport) attach(*bayeuxClient) {}

// send POSTs msgs and returns the response's messages.
func (t *pollTransport) send(ctx context.Context, msgs ...bxMessage) ([]bxMessage, error) {
	b, err := json.Marshal(msgs)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bench: bayeux POST: %w", err)
	}
	defer resp.Body.Close()
	var out []bxMessage
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("bench: bayeux POST: HTTP %d: %w", resp.StatusCode, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return out, nil
}

// startConnect runs the connect loop until the client or the transport
// ends.
func (t *pollTransport) startConnect(c *bayeuxClient) {
	c.wg.Go(func() {
		for t.ctx.Err() == nil && !c.ended() {
			msgs, err := t.send(t.ctx, c.connectMessage())
			if err != nil {
				c.end(err)
				return
			}
			if !c.process(msgs) {
				return
			}
		}
	})
}

func (t *pollTransport) close() { t.cancel() }

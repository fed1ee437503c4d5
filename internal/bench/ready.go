package bench

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// readyPace is how often Ready tries again.
const readyPace = 200 * time.Millisecond

// Ready waits until the web API at target opens a chat on service, which
// needs it to be up and to have found a chat server that takes chats, then
// ends that chat. It gives up when ctx ends, with the last error.
func Ready(ctx context.Context, target, service string) error {
	c := newRESTClient(target, service, 1)
	defer c.close()
	t := time.NewTicker(readyPace)
	defer t.Stop()
	for {
		cust := &restCustomer{c: c}
		err := cust.open(ctx, url.Values{"nickname": {"bench probe"}})
		if err == nil {
			if err := cust.disconnect(ctx); err != nil {
				return fmt.Errorf("bench: the probe chat did not end: %w", err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench: %s is not ready: %w", target, err)
		case <-t.C:
		}
	}
}

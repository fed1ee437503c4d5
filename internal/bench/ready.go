package bench

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// readyPace is how often Ready and ReadyChatServer try again.
const readyPace = 200 * time.Millisecond

// Ready waits until the web API at target opens a chat on service, which
// needs it to be up and to have found a chat server that takes chats, then
// ends that chat. It gives up when ctx ends, with the last error.
func Ready(ctx context.Context, target, service string) error {
	c := newRESTClient(target, service, 1)
	defer c.close()
	return retry(ctx, target, func(ctx context.Context) error {
		cust := &restCustomer{c: c}
		if err := cust.open(ctx, url.Values{"nickname": {"bench probe"}}); err != nil {
			return err
		}
		return notEnded(cust.leave(ctx))
	})
}

// ReadyChatServer waits until the chat server name at addr (host:port)
// opens a chat on its customer side, as a web API would ask for one on
// service, then ends that chat. It gives up when ctx ends, with the last
// error.
func ReadyChatServer(ctx context.Context, name, addr, service string, cred *Credentials) error {
	p := newWirePool(flexPath, map[string]string{name: addr}, cred, 1, 0,
		wire.HandlerFunc(func(context.Context, *wire.Conn, wire.Message) {}))
	defer p.close()
	return retry(ctx, addr, func(ctx context.Context) error {
		c, err := p.conn(ctx, name, 0)
		if err != nil {
			return err
		}
		var in loggedIn
		if err := wireRequest(ctx, c, wire.RequestLogin, loginBody{Service: service, Nickname: "bench probe"}, &in); err != nil {
			return err
		}
		return notEnded(wireRequest(ctx, c, wire.RequestLogout, in.ref().party(), nil))
	})
}

// errProbeNotEnded marks a probe chat that opened but did not end: the
// server is up, and something is wrong with it.
var errProbeNotEnded = errors.New("bench: the probe chat did not end")

// notEnded marks the error of ending a probe chat, if any, so that retry
// gives up on it instead of opening another.
func notEnded(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", errProbeNotEnded, err)
}

// retry runs probe every readyPace until it succeeds, fails with
// errProbeNotEnded, or ctx ends; what names the server in the error.
func retry(ctx context.Context, what string, probe func(context.Context) error) error {
	t := time.NewTicker(readyPace)
	defer t.Stop()
	for {
		err := probe(ctx)
		if err == nil || errors.Is(err, errProbeNotEnded) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench: %s is not ready: %w", what, err)
		case <-t.C:
		}
	}
}

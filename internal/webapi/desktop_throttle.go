package webapi

import (
	"context"
	"errors"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/wire"
)

// Login backoff per client address at the desktop bridge: five failures
// are free (an office behind one address), then each failure doubles the
// wait before the next login from that address is even forwarded, from a
// second up to a minute. The interaction server keeps its own backoff per
// agent id.
const (
	deskFreeFailures = 5
	deskBackoffBase  = time.Second
	deskBackoffMax   = time.Minute
	deskBackoffKeys  = 100000
)

// newDeskBackoff returns the desktop bridge's login backoff.
func newDeskBackoff() *auth.Backoff {
	return &auth.Backoff{Free: deskFreeFailures, Base: deskBackoffBase, Max: deskBackoffMax, MaxKeys: deskBackoffKeys}
}

// throttledLogin is login within the backoff of the page's address: a
// login from an address that must wait is refused with 113 unforwarded.
func (a *agentSession) throttledLogin(ctx context.Context, req deskRequest) (any, error) {
	b, now := a.d.backoff, time.Now()
	if wait := b.Wait(a.addr, now); wait > 0 {
		a.d.s.metrics.refuse(refusedLoginBackoff)
		return nil, wire.Errorf(wire.CodeRateLimited, "too many failed logins from this address: retry in %s", wait.Round(time.Second))
	}
	reply, err := a.login(ctx, req)
	if we, ok := errors.AsType[*wire.Error](err); ok && we.Code == wire.CodeLoginFailed {
		b.Fail(a.addr, now)
	} else if err == nil {
		b.Succeed(a.addr)
	}
	return reply, err
}

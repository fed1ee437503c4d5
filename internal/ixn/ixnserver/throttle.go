package ixnserver

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/internal/auth"
)

// Login backoff per agent id: three failures are free, then each failure
// doubles the wait before the next attempt is even checked, from a second
// up to five minutes. Unknown agent ids are throttled the same way, so a
// guesser learns nothing from it; a throttled login is refused as a wrong
// password is (2105), without spending PBKDF2 on it.
const (
	loginFreeFailures = 3
	loginBackoffBase  = time.Second
	loginBackoffMax   = 5 * time.Minute
	loginBackoffKeys  = 100000
)

// loginThrottle is the interaction server's login backoff and its counter.
type loginThrottle struct {
	backoff   auth.Backoff
	throttled prometheus.Counter
}

func newLoginThrottle(reg *prometheus.Registry) *loginThrottle {
	t := &loginThrottle{
		backoff: auth.Backoff{Free: loginFreeFailures, Base: loginBackoffBase, Max: loginBackoffMax, MaxKeys: loginBackoffKeys},
		throttled: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_ixn_logins_throttled_total",
			Help: "Agent logins refused unchecked, within the backoff after failures."}),
	}
	reg.MustRegister(t.throttled)
	return t
}

// check verifies a login with verify unless agent must wait, and records
// its outcome; it reports whether the login succeeded.
func (t *loginThrottle) check(agent string, now time.Time, verify func() bool) bool {
	if t.backoff.Wait(agent, now) > 0 {
		t.throttled.Inc()
		return false
	}
	if !verify() {
		t.backoff.Fail(agent, now)
		return false
	}
	t.backoff.Succeed(agent)
	return true
}

package chatserver_test

import (
	"testing"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/wire"
)

// TestLimitForFlexUsers: at limit-for-flex-users customers present, a new
// chat is refused (106) and GET /status says accepting false; a customer
// who leaves frees a place. Agents are not flex users.
func TestLimitForFlexUsers(t *testing.T) {
	opts := defaultOptions(t)
	opts.Settings.LimitForFlexUsers = 2
	h := start(t, opts, nil)
	first := h.login(h.dial(chatserver.FlexPath))
	h.joinAgent(h.dial(chatserver.BasicPath), first.sessionID, nil)
	h.login(h.dial(chatserver.FlexPath))
	eventually(t, "two flex users counted", func() bool { return h.status().FlexUsers == 2 })
	if st := h.status(); st.Accepting || st.LimitForFlexUsers != 2 {
		t.Errorf("status at the limit = %+v, want not accepting", st)
	}
	if _, err := h.dial(chatserver.FlexPath).do(wire.RequestLogin, map[string]any{"nickname": "Third"}); wireCode(err) != wire.CodeUnavailable {
		t.Errorf("login at limit-for-flex-users: err = %v, want code %d", err, wire.CodeUnavailable)
	}
	first.must(wire.RequestLogout, first.ref(nil))
	eventually(t, "one flex user left", func() bool { st := h.status(); return st.FlexUsers == 1 && st.Accepting })
	h.login(h.dial(chatserver.FlexPath))
}

package chatserver_test

import (
	"testing"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/wire"
)

// TestPushOnJoinOption: a permanent push subscription (RequestSubscribe with
// pushNotification, which the web API sends for a new chat) is refused with
// 104 while flex-push-on-join is off, its default, and taken once a reload
// turns it on.
func TestPushOnJoinOption(t *testing.T) {
	h := start(t, defaultOptions(t), nil)
	c := h.login(h.dial(chatserver.FlexPath))
	body := c.ref(map[string]any{"transcriptPosition": 1,
		"pushNotification": map[string]string{"deviceId": "dev-1", "type": "customhttp"}})
	if _, err := c.do(wire.RequestSubscribe, body); wireCode(err) != wire.CodeNotAllowed {
		t.Fatalf("push subscription with flex-push-on-join off: err = %v, want code %d", err, wire.CodeNotAllowed)
	}
	on := h.opts
	on.Settings.FlexPushOnJoin = true
	if restart, err := h.srv.Reconfigure(on); err != nil || len(restart) != 0 {
		t.Fatalf("reload = %q, %v; want it applied at once", restart, err)
	}
	c.must(wire.RequestSubscribe, body)
}

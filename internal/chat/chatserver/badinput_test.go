package chatserver_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/wire"
)

// TestOversizedMessageRefusedAlone checks that [settings] max-message-size
// reaches the chat server's listener: a frame above it, though far below the
// wire default, is answered with CodeTooLarge, and neither its connection,
// its session nor another session on another connection notices.
func TestOversizedMessageRefusedAlone(t *testing.T) {
	opts := defaultOptions(t)
	opts.Settings.MaxMessageSize = 2048
	h := start(t, opts, nil)
	a := h.login(h.dial(chatserver.FlexPath))
	b := h.login(h.dial(chatserver.FlexPath))

	big := strings.Repeat("x", 4000)
	if _, err := a.do(wire.RequestMessage, a.ref(map[string]any{"text": big})); wireCode(err) != wire.CodeTooLarge {
		t.Fatalf("a %d-byte message with max-message-size 2048: err = %v, want code %d", len(big), err, wire.CodeTooLarge)
	}
	a.must(wire.RequestMessage, a.ref(map[string]any{"text": "after the big one"}))
	b.must(wire.RequestMessage, b.ref(map[string]any{"text": "from b"}))

	for _, tt := range []struct {
		c    client
		want []string
	}{{a, []string{"after the big one"}}, {b, []string{"from b"}}} {
		st := tt.c.must(wire.RequestRefresh, tt.c.ref(map[string]any{"transcriptPosition": 1}))
		var texts []string
		for _, m := range st.Messages {
			if m.Text != "" {
				texts = append(texts, m.Text)
			}
		}
		if strings.Join(texts, "|") != strings.Join(tt.want, "|") {
			t.Errorf("session %s holds messages %q, want %q", tt.c.sessionID, texts, tt.want)
		}
	}
}

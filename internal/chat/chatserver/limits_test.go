package chatserver_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/wire"
)

// TestSessionLimits checks [limits] on the flex side: a message just under
// max-message-length goes, one past it is refused with 103; past
// party-message-burst a client is refused with 113; a full transcript
// refuses with 103; the agent of the chat still speaks.
func TestSessionLimits(t *testing.T) {
	opts := defaultOptions(t)
	opts.Limits.MaxMessageLength = 100
	opts.Limits.PartyMessageRate, opts.Limits.PartyMessageBurst = 1, 3
	opts.Limits.TranscriptMaxEvents = 8
	h := start(t, opts, nil)
	c := h.login(h.dial(chatserver.FlexPath))
	agent := h.dial(chatserver.BasicPath)
	a := h.joinAgent(agent, c.sessionID, nil)

	send := func(text string) error {
		_, err := c.do(wire.RequestMessage, c.ref(map[string]any{"text": text}))
		return err
	}
	if err := send(strings.Repeat("x", 100)); err != nil {
		t.Fatalf("a message of max-message-length: %v", err)
	}
	if err := send(strings.Repeat("x", 101)); wireCode(err) != wire.CodeTooLarge {
		t.Errorf("a message past max-message-length: %v, want 103", err)
	}
	send("two")
	send("three")
	if err := send("four"); wireCode(err) != wire.CodeRateLimited {
		t.Errorf("a message past party-message-burst: %v, want 113", err)
	}
	body := map[string]any{"sessionId": c.sessionID, "userId": a.UserID, "text": "still here"}
	for range 3 { // events 6, 7 and 8; then the transcript is full
		agent.must(wire.RequestMessage, body)
	}
	if _, err := agent.do(wire.RequestMessage, body); wireCode(err) != wire.CodeTooLarge {
		t.Errorf("a message past transcript-max-events: %v, want 103", err)
	}
	resp, err := http.Get("http://" + h.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	for _, reason := range []string{"message-length", "party-rate", "transcript-full"} {
		if want := `parley_chat_refused_total{reason="` + reason + `"} 1`; !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
}

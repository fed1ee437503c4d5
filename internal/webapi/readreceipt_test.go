package webapi_test

import (
	"strconv"
	"testing"

	"github.com/parley-chat/parley/internal/transcript"
)

// TestReadReceipt: a client's readReceipt reaches the agents as a
// ReadReceipt event naming the position read; the client never gets it
// back, and a position outside the transcript is refused.
func TestReadReceipt(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, nil, cs)
	c := w.requestChat(nil)
	a := joinAgent(t, cs.addr, c.chatID)
	a.say("hello Ann", transcript.VisAll)
	env := c.must("refresh", "transcriptPosition", "1")
	read := env.NextPosition - 1

	c.must("readReceipt", "transcriptPosition", strconv.Itoa(read))
	got := a.waitFor("the read receipt", func(m transcript.APIMessage) bool { return m.Type == transcript.ReadReceipt })
	if got.UserData["transcriptPosition"] != strconv.Itoa(read) || got.From == nil || got.From.Type != transcript.Client {
		t.Errorf("read receipt %+v, want position %d from the client", got, read)
	}
	if later := c.must("refresh", "transcriptPosition", strconv.Itoa(env.NextPosition)); len(later.Messages) != 0 {
		t.Errorf("the client got %+v", later.Messages)
	}
	for _, pos := range []string{"0", "999", ""} {
		if bad := c.call("readReceipt", "transcriptPosition", pos); bad.StatusCode != 2 || bad.code() != 102 {
			t.Errorf("readReceipt at %q: %+v, want 102", pos, bad)
		}
	}
}

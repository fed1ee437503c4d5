package chatserver_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// TestQueuePositionNotice: the queue position the interaction server's
// router sets on a waiting chat reaches its customer as a Notice with the
// position in its userData, delivered and not stored; the notice follows
// the position as the chat ahead leaves the queue.
func TestQueuePositionNotice(t *testing.T) {
	x := startIxn(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "ixn.db"))
	a := chatServers(t, 1, []string{x.addr}, nil, nil)[0]
	first := a.login(a.dial(chatserver.FlexPath))
	second := a.login(a.dial(chatserver.FlexPath))
	waitQueueNotice(t, second, "2", "You are number 2 in the queue.")

	waitQueueNotice(t, first, "1", "You are number 1 in the queue.")
	first.must(wire.RequestLogout, first.ref(nil)) // the chat ahead ends
	waitQueueNotice(t, second, "1", "You are number 1 in the queue.")

	snap, err := a.ts.Load(context.Background(), second.sessionID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range snap.Events {
		if e.Type == transcript.Notice {
			t.Errorf("queue notice stored in the transcript: %+v", e)
		}
	}
}

// waitQueueNotice waits until c's transcript shows the queue position
// notice for position pos with text.
func waitQueueNotice(t *testing.T, c client, pos, text string) {
	t.Helper()
	eventually(t, "queue position "+pos, func() bool {
		st := c.must(wire.RequestRefresh, c.ref(map[string]any{"transcriptPosition": 1}))
		for _, m := range st.Messages {
			if m.Type == transcript.Notice && m.UserData["QueuePosition"] == pos && m.Text == text && m.Visibility == transcript.VisAll {
				return true
			}
		}
		return false
	})
}

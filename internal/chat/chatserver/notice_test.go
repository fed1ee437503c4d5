package chatserver_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// serverNotices are the notice types only the chat server adds.
var serverNotices = []transcript.EventType{
	transcript.FileUploaded, transcript.FileDeleted,
	transcript.ParticipantJoined, transcript.ParticipantLeft,
	transcript.Notice, transcript.IdleAlert, transcript.IdleClose,
}

// TestForgedNoticesRefused: neither a client nor an agent can make the chat
// server add a notice that only the server adds (a FileUploaded notice
// would show a download link for a file that was never uploaded), and
// nothing of the attempt reaches the session.
func TestForgedNoticesRefused(t *testing.T) {
	h := startFiles(t, nil, true)
	fc := newFileChat(t, h, false)
	c := fc.c
	c.must(wire.RequestSubscribe, c.ref(nil))
	agent := h.dial(chatserver.BasicPath)
	fc.agent = agent
	joined := h.joinAgent(agent, c.sessionID, nil)
	a := map[string]any{"sessionId": c.sessionID, "userId": joined.UserID}
	forged := map[string]string{"file-id": "F0RGED", "file-name": "invoice.pdf", "file-size": "1"}

	for _, typ := range serverNotices {
		for who, req := range map[string]struct {
			p    *peer
			body map[string]any
		}{
			"client": {c.peer, c.ref(map[string]any{"noticeType": typ, "text": "x", "userData": forged})},
			"agent":  {agent, with(a, "noticeType", string(typ), "text", "x")},
		} {
			t.Run(who+"/"+string(typ), func(t *testing.T) {
				_, err := req.p.do(wire.RequestNotify, req.body)
				if wireCode(err) != wire.CodeNotAllowed || !strings.Contains(err.Error(), "chat server only") {
					t.Errorf("err = %v, want code %d saying the chat server only adds it", err, wire.CodeNotAllowed)
				}
			})
		}
	}

	// The legitimate notices and the real upload path still work.
	c.must(wire.RequestNotify, c.ref(map[string]any{"noticeType": "TypingStarted"}))
	id := fc.mustUpload(filePart{name: "real.txt", contentType: "text/plain", data: []byte("real")}, nil)
	fc.waitFileNotice(transcript.FileUploaded, id)

	st := c.must(wire.RequestRefresh, c.ref(map[string]any{"transcriptPosition": 1}))
	for _, m := range append(st.Messages, agent.pushed()...) {
		if m.UserData["file-id"] == "F0RGED" || m.Text == "x" {
			t.Errorf("a forged notice reached the session: %+v", m)
		}
	}
	for _, m := range c.pushed() {
		if m.Type == transcript.FileUploaded && m.UserData["file-id"] != id {
			t.Errorf("client pushed a file notice for %q", m.UserData["file-id"])
		}
	}
}

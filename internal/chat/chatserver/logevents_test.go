package chatserver_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/wire"
)

// logBuffer collects a server's log lines, safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the logged lines that contain every one of parts.
func (b *logBuffer) lines(parts ...string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for line := range strings.Lines(b.buf.String()) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			out = append(out, line)
		}
	}
	return out
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// TestSessionDeletedEvent: a chat that ends is logged as the seed's event
// 59245, with the number of chats left, which an administrator draining a
// disabled chat server waits to see at 0.
func TestSessionDeletedEvent(t *testing.T) {
	db := openDB(t)
	logs := &logBuffer{}
	h := serve(t, chatserver.Config{Name: "chat-1", Options: defaultOptions(t), Transcripts: db.Transcripts(),
		Contacts: db.Contacts(), Logger: logs.logger()}, db)
	first, second := h.login(h.dial(chatserver.FlexPath)), h.login(h.dial(chatserver.FlexPath))
	first.must(wire.RequestLogout, first.ref(nil))
	eventually(t, "event 59245 for the first chat", func() bool {
		return len(logs.lines("event=59245", "deleting session with sid="+first.sessionID+" and intx="+first.sessionID+" (current sessions=1)")) == 1
	})
	second.must(wire.RequestLogout, second.ref(nil))
	eventually(t, "event 59245 at current sessions=0", func() bool {
		return len(logs.lines("level=INFO", "event=59245", "sid="+second.sessionID, "(current sessions=0)")) == 1
	})
}

// TestDeploymentDisabled: the deployment file's disabled key and the
// operator's admin call each disable the server; it takes new chats again
// only once neither does, and each change is a numbered event.
func TestDeploymentDisabled(t *testing.T) {
	db := openDB(t)
	logs := &logBuffer{}
	h := serve(t, chatserver.Config{Name: "chat-1", Options: defaultOptions(t), Transcripts: db.Transcripts(),
		Contacts: db.Contacts(), Availability: db.Availability(), Disabled: true, Logger: logs.logger()}, db)
	if st := h.status(); !st.Disabled || st.Accepting || strings.Join(st.DisabledBy, ",") != "deployment" {
		t.Fatalf("status with disabled: true = %+v", st)
	}
	flex := h.dial(chatserver.FlexPath)
	if _, err := flex.do(wire.RequestLogin, map[string]any{"nickname": "New"}); wireCode(err) != wire.CodeUnavailable {
		t.Errorf("login on a server the file disables: err = %v, want code %d", err, wire.CodeUnavailable)
	}
	wantStatus(t, "enable by an operator", h.admin("/admin/enable", "", ""), true) // the file still disables it
	wantStatus(t, "disable by an operator", h.admin("/admin/disable", "", ""), true)
	h.srv.SetDeploymentDisabled(false)
	if st := h.status(); !st.Disabled || strings.Join(st.DisabledBy, ",") != "admin" {
		t.Errorf("status with the file's flag cleared = %+v, want disabled by admin", st)
	}
	wantStatus(t, "enable by an operator", h.admin("/admin/enable", "", ""), false)
	h.login(h.dial(chatserver.FlexPath))
	for _, want := range []string{
		`level=WARN msg="chat server disabled by the deployment file (disabled: true): it takes no new chats" event=59901`,
		`level=WARN msg="chat server disabled by an operator (POST /admin/disable or /admin/enable): it takes no new chats" event=59901`,
		`level=INFO msg="chat server enabled by the deployment file (disabled: false)" event=59902`,
		`level=INFO msg="chat server enabled by an operator (POST /admin/disable or /admin/enable)" event=59902`,
	} {
		if n := len(logs.lines(want)); n != 1 {
			t.Errorf("%d lines %s, want 1; log:\n%s", n, want, logs.lines(""))
		}
	}
}

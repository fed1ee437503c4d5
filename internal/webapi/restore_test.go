package webapi_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/transcript"
)

// killable is a chat server that a test can stop mid-chat.
type killable struct {
	chatServer
	kill func()
}

// startShared runs chat servers named names on one SQLite database.
func startShared(t *testing.T, names ...string) []killable {
	t.Helper()
	return startSharedWith(t, nil, names...)
}

// startSharedWith is startShared with options changed by edit.
func startSharedWith(t *testing.T, edit func(*config.ChatServerOptions), names ...string) []killable {
	t.Helper()
	opts := config.DefaultChatServerOptions()
	if edit != nil {
		edit(&opts)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var out []killable
	for _, name := range names {
		out = append(out, runChat(t, listen(t), chatserver.Config{Name: name, Options: opts,
			Transcripts: db.Transcripts(), Contacts: db.Contacts(), Files: db.Files()}))
	}
	return out
}

func TestFailoverRestoresChat(t *testing.T) {
	cs := startShared(t, "chat-1", "chat-2")
	w := startWeb(t, nil, cs[0].chatServer, cs[1].chatServer)
	c := w.requestChat(nil)
	owner, other := cs[0], cs[1]
	if c.alias == "chat-2" {
		owner, other = cs[1], cs[0]
	}
	a := joinAgent(t, owner.addr, c.chatID)
	a.say("before the crash", transcript.VisAll)
	pos := c.must("refresh", "transcriptPosition", "1").NextPosition

	owner.kill()
	eventually(t, "the web API sees "+owner.name+" gone", func() bool { return !w.srv.Connected(owner.name) })
	env := c.must("refresh", "transcriptPosition", strconv.Itoa(pos))
	if env.Alias != other.name {
		t.Fatalf("alias after failover = %q, want %q", env.Alias, other.name)
	}
	var reasons []string
	for _, m := range env.Messages {
		if m.Index < pos {
			t.Errorf("event %d delivered again after the failover", m.Index)
		}
		if m.Type == transcript.ParticipantLeft {
			reasons = append(reasons, m.EventAttributes.System["quit-reason-code"])
		}
	}
	if len(reasons) != 2 || reasons[0] != "8" || reasons[1] != "8" {
		t.Errorf("restoration leaves with reasons %v, want two with 8", reasons)
	}
	c.alias = env.Alias
	c.must("send", "message", "after the crash")
	again := c.must("refresh", "transcriptPosition", strconv.Itoa(env.NextPosition))
	if len(again.Messages) != 1 || again.Messages[0].Text != "after the crash" {
		t.Errorf("refresh after the failover = %+v", again.Messages)
	}
}

func TestFailoverWithStaleAlias(t *testing.T) {
	cs := startShared(t, "chat-1", "chat-2")
	w := startWeb(t, nil, cs[0].chatServer, cs[1].chatServer)
	c := w.requestChat(nil)
	owner := cs[0]
	if c.alias == "chat-2" {
		owner = cs[1]
	}
	joinAgent(t, owner.addr, c.chatID)
	owner.kill()
	// A send is repeated on the new server only when it certainly did not
	// reach the old one; otherwise the client is told to retry (statusCode
	// 1), with the new alias, as a GMS client does.
	env := c.call("send", "message", "one")
	if env.StatusCode == 1 && env.Alias != "" && env.Alias != owner.name {
		c.alias = env.Alias
		env = c.call("send", "message", "one")
	}
	if env.StatusCode != 0 || env.Alias == owner.name {
		t.Fatalf("send after the owner died = %+v", env)
	}
	c.alias = owner.name // a client that missed the new alias
	// A client that keeps the old alias is still served.
	if env := c.must("refresh", "transcriptPosition", "1"); env.Alias == owner.name {
		t.Errorf("refresh with the old alias answered alias %q", env.Alias)
	}
	bad := c
	bad.key = "wrong"
	if env := bad.call("refresh", "transcriptPosition", "1"); env.StatusCode != 2 || len(env.Messages) != 0 {
		t.Errorf("wrong key after failover = %+v", env)
	}
}

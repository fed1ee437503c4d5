package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/wire"
)

var build struct {
	once sync.Once
	bin  string
	err  error
}

// buildParley builds cmd/parley once per test binary, into a directory
// removed when the tests end (see TestMain).
func buildParley(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "parley-bin-")
		if err != nil {
			build.err = err
			return
		}
		build.bin = filepath.Join(dir, "parley")
		// Static, as the container image wants it (TestImageRunsInPodman).
		cmd := exec.Command("go", "build", "-o", build.bin, "github.com/parley-chat/parley/cmd/parley")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

// TestUpEndToEnd runs the real binary's `parley up` on a deployment of two
// chat servers sharing one SQLite database, chats through one of them over
// the wire protocol, and finds the final transcript in the contact store.
func TestUpEndToEnd(t *testing.T) {
	bin := buildParley(t)
	dir := t.TempDir()
	held, addrs := holdListeners(t, "chat-1", "chat-2", "gms-1")
	chat1, chat2, web := addrs["chat-1"], addrs["chat-2"], addrs["gms-1"]
	file := filepath.Join(dir, "parley.yaml")
	yaml := fmt.Sprintf(`data-dir: %s
databases:
  main: {driver: sqlite, dsn: parley.db}
applications:
  chat-1: {type: chat-server, listen: "%s", database: main, options: {settings: {transcript-auto-save: 1}}}
  chat-2: {type: chat-server, listen: "%s", database: main}
  gms-1: {type: web-api, listen: "%s", connections: [chat-1, chat-2]}
`, filepath.Join(dir, "data"), chat1, chat2, web)
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}

	var out syncBuffer
	up := exec.Command(bin, "up", "--config", file)
	up.Stdout, up.Stderr = &out, &out
	held.start(up)
	exited := make(chan error, 1)
	go func() { exited <- up.Wait() }()
	t.Cleanup(func() {
		up.Process.Kill()
		<-exited
	})
	for _, name := range []string{"chat-1", "chat-2"} {
		waitFor(t, &out, name+" (chat-server) ready")
		if _, err := os.Stat(filepath.Join(dir, "data", "run", name+".pid")); err != nil {
			t.Errorf("pid file of %s: %v", name, err)
		}
	}

	sessionID := chatThrough(t, peerAs(t, filepath.Join(dir, "data"), "gms-1"), "chat-1", chat1)

	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "data", "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	in, err := db.Contacts().Interaction(context.Background(), sessionID)
	if err != nil {
		t.Fatalf("final transcript of %s not in the contact store: %v\n%s", sessionID, err, out.String())
	}
	for _, want := range []string{"<msgText>my order is late</msgText>", "<msgText>sorry, let me check</msgText>", `userType="AGENT"`, `userType="CLIENT"`} {
		if !strings.Contains(in.TranscriptXML, want) {
			t.Errorf("final transcript lacks %s:\n%s", want, in.TranscriptXML)
		}
	}
	if in.Owner != "chat-1" || in.ContactID == "" {
		t.Errorf("interaction owner %q contact %q", in.Owner, in.ContactID)
	}

	if err := up.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("up exited with %v after SIGTERM; output:\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("up did not stop after SIGTERM; output:\n%s", out.String())
	}
	for _, name := range []string{"chat-1", "chat-2"} {
		if _, err := os.Stat(filepath.Join(dir, "data", "run", name+".pid")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("pid file of %s left behind: %v", name, err)
		}
	}
}

// waitFor waits for want in up's output and shows the output if it never comes.
func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in up's output:\n%s", want, out.String())
		}
		<-time.After(10 * time.Millisecond)
	}
}

// chatThrough plays a whole chat on the chat server at addr: a customer on
// the customer side, an agent on the agent side, messages both ways, and the
// agent ending it. It returns the session id.
// The test plays the web API gms-1's part on both sides.
func chatThrough(t *testing.T, web testPeer, server, addr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	customer := web.dial(ctx, t, "ws://"+addr+"/wire/flex", server, nil)
	pushed := make(chan string, 64)
	agent := web.dial(ctx, t, "ws://"+addr+"/wire/basic", server, func(m wire.Message) {
		var st struct{ Messages []struct{ Text string } }
		if json.Unmarshal(m.Body, &st) == nil {
			for _, msg := range st.Messages {
				select {
				case pushed <- msg.Text:
				default: // the test reads only the first few
				}
			}
		}
	})

	var login struct{ SessionID, UserID, SecureKey, Alias string }
	request(ctx, t, customer, wire.RequestLogin, map[string]any{"firstName": "Ann", "lastName": "Lee", "emailAddress": "ann@example.com"}, &login)
	if login.Alias != "chat-1" {
		t.Errorf("alias = %q, want chat-1", login.Alias)
	}
	var joined struct{ UserID string }
	request(ctx, t, agent, wire.RequestJoin, map[string]any{"sessionId": login.SessionID, "nickname": "Bob", "personId": "bob",
		"grant": web.grant("bob", login.SessionID)}, &joined)
	client := map[string]any{"sessionId": login.SessionID, "userId": login.UserID, "secureKey": login.SecureKey, "text": "my order is late"}
	request(ctx, t, customer, wire.RequestMessage, client, nil)
	for text := ""; text != "my order is late"; {
		select {
		case text = <-pushed:
		case <-ctx.Done():
			t.Fatal("the agent never received the customer's message")
		}
	}
	a := map[string]any{"sessionId": login.SessionID, "userId": joined.UserID}
	request(ctx, t, agent, wire.RequestMessage, map[string]any{"sessionId": login.SessionID, "userId": joined.UserID, "text": "sorry, let me check"}, nil)
	var refresh struct{ Messages []struct{ Text string } }
	delete(client, "text")
	client["transcriptPosition"] = 1
	request(ctx, t, customer, wire.RequestRefresh, client, &refresh)
	if n := len(refresh.Messages); n == 0 || refresh.Messages[n-1].Text != "sorry, let me check" {
		t.Errorf("customer refresh = %+v", refresh.Messages)
	}
	a["afterAction"] = "CloseIfNoAgents"
	request(ctx, t, agent, wire.RequestReleaseParty, a, nil)
	return login.SessionID
}

func request(ctx context.Context, t *testing.T, c *wire.Conn, name string, body, reply any) {
	t.Helper()
	if _, err := c.Request(ctx, name, body, reply); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

package webapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// chatJSDir holds the Chat API v2 conformance client and its pinned npm
// packages (the versions of internal/bayeux/testdata/cometd-js).
const chatJSDir = "testdata/cometd-chat"

// chatJSResult is the last line chat.mjs prints.
type chatJSResult struct {
	Transports  []string `json:"transports"`
	Handshakes  int      `json:"handshakes"`
	ChatID      string   `json:"chatId"`
	ResumedFrom int      `json:"resumedFrom"`
	Messages    []struct {
		Index int    `json:"index"`
		Type  string `json:"type"`
		Text  string `json:"text"`
	} `json:"messages"`
	Errors         []string          `json:"errors"`
	EnvelopeErrors []json.RawMessage `json:"envelopeErrors"`
	Disconnected   bool              `json:"disconnected"`
}

// TestOfficialChatClient runs the official CometD JavaScript client over
// each transport through a whole chat: requestChat, sendMessage, an agent's
// message pushed, a reconnect with a new handshake and requestNotifications
// from the last position (what was said meanwhile arrives once), and the
// disconnect operation.
func TestOfficialChatClient(t *testing.T) {
	node := requireChatNode(t)
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, nil, cs)
	url := strings.TrimSuffix(w.base, "/2/chat/customer-support") + "/cometd"
	for _, tr := range []string{"websocket", "long-polling"} {
		t.Run(tr, func(t *testing.T) {
			res := runChatClient(t, node, url, tr, cs.addr)
			if res.Handshakes != 2 || len(res.Transports) != 2 || res.Transports[0] != tr || res.Transports[1] != tr ||
				!res.Disconnected || len(res.Errors) > 0 || len(res.EnvelopeErrors) > 0 {
				t.Errorf("client results %+v", res)
			}
			var texts []string
			for i, m := range res.Messages {
				if m.Index != i+1 {
					t.Fatalf("event %d delivered where %d was due: %+v", m.Index, i+1, res.Messages)
				}
				if m.Type == string(transcript.Message) {
					texts = append(texts, m.Text)
				}
			}
			want := "hello from js|hello from the agent|while you were away|welcome back"
			if got := strings.Join(texts, "|"); got != want {
				t.Errorf("messages %q, want %q", got, want)
			}
		})
	}
}

// runChatClient runs chat.mjs over transport and plays the agent's part on
// the chat server at chatAddr as the script goes.
func runChatClient(t *testing.T, node, url, transport, chatAddr string) chatJSResult {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "chat.mjs", url, transport, "customer-support")
	cmd.Dir = chatJSDir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	last := playAgent(t, bufio.NewScanner(stdout), stdin, chatAddr)
	io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		t.Errorf("chat.mjs: %v\nstderr: %s", err, stderr.String())
	}
	var res chatJSResult
	if err := json.Unmarshal([]byte(last), &res); err != nil {
		t.Fatalf("chat.mjs printed %q: %v\nstderr: %s", last, err, stderr.String())
	}
	t.Logf("client results: %s", last)
	return res
}

// playAgent answers the script's events and returns its last line: on
// "chat" an agent joins and greets once the client's message arrived; on
// "away" it says something and lets the script come back; on "back" it
// says welcome back.
func playAgent(t *testing.T, out *bufio.Scanner, in io.WriteCloser, chatAddr string) string {
	defer in.Close()
	var a *agent
	var line string
	for out.Scan() {
		line = out.Text()
		var ev struct{ Event, ChatID string }
		if json.Unmarshal([]byte(line), &ev) != nil {
			continue
		}
		if a == nil && ev.Event != "" && ev.Event != "chat" {
			t.Fatalf("chat.mjs printed %q before the chat", line)
		}
		switch ev.Event {
		case "chat":
			a = joinAgent(t, chatAddr, ev.ChatID)
			a.waitFor("the client's message", func(m transcript.APIMessage) bool { return m.Text == "hello from js" })
			a.say("hello from the agent", transcript.VisAll)
		case "away":
			a.say("while you were away", transcript.VisAll)
			io.WriteString(in, "go\n")
		case "back":
			a.say("welcome back", transcript.VisAll)
		}
	}
	return line
}

// requireChatNode returns the path of node after installing the pinned npm
// packages, or skips the test when node or npm is absent (fails under
// PARLEY_REQUIRE_ALL=1).
func requireChatNode(t *testing.T) string {
	t.Helper()
	node, errNode := exec.LookPath("node")
	npm, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		if os.Getenv("PARLEY_REQUIRE_ALL") == "1" {
			t.Fatal("node and npm are required (PARLEY_REQUIRE_ALL=1)")
		}
		t.Skip("node or npm not on PATH: the official CometD client conformance test needs them")
	}
	lock, errLock := os.Stat(filepath.Join(chatJSDir, "package-lock.json"))
	mods, errMods := os.Stat(filepath.Join(chatJSDir, "node_modules", ".package-lock.json"))
	if errLock == nil && errMods == nil && !mods.ModTime().Before(lock.ModTime()) {
		return node
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = chatJSDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
	return node
}

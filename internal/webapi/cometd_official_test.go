package webapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/partition"
	"github.com/parley-chat/parley/internal/testenv"
	"github.com/parley-chat/parley/internal/transcript"
)

// chatJSDir holds the Chat API v2 conformance client and its pinned npm
// packages (the versions of internal/bayeux/testdata/cometd-js).
const chatJSDir = "testdata/cometd-chat"

// chatJSResult is the last line chat.mjs prints.
type chatJSResult struct {
	Transports   []string `json:"transports"`
	Handshakes   int      `json:"handshakes"`
	ClientIDs    []string `json:"clientIds"`
	Unsuccessful []string `json:"unsuccessful"`
	ChatID       string   `json:"chatId"`
	ResumedFrom  int      `json:"resumedFrom"`
	Messages     []struct {
		Index int    `json:"index"`
		Type  string `json:"type"`
		Text  string `json:"text"`
	} `json:"messages"`
	Errors         []string          `json:"errors"`
	EnvelopeErrors []json.RawMessage `json:"envelopeErrors"`
	Disconnected   bool              `json:"disconnected"`
}

// TestOfficialChatClient runs the official CometD JavaScript client over
// each transport (callback-polling with the client's own JSONP transport,
// its script loads done as a browser does them) through a whole chat: requestChat, sendMessage, an agent's
// message pushed, a forced reconnect (the client's connections are cut
// until the server drops its session; the client handshakes again by
// itself) resumed with requestNotifications from the last position (what
// was said meanwhile arrives once), and the disconnect operation.
func TestOfficialChatClient(t *testing.T) { officialChatClient(t, nil) }

// TestOfficialChatClientTLS is TestOfficialChatClient with TLS and
// authentication on: the web API serves HTTPS and WSS with a certificate of
// a test CA that node trusts (NODE_EXTRA_CA_CERTS, verification stays on),
// and proves itself over WSS to a chat server that admits nobody else; the
// agent joins as the desktop bridge does, with a grant.
func TestOfficialChatClientTLS(t *testing.T) { officialChatClient(t, newSecure(t)) }

// officialChatClient runs the conformance client over each transport
// against a web API and a chat server secured by sec (nil: plain text,
// everyone admitted).
func officialChatClient(t *testing.T, sec *secure) {
	node := requireChatNode(t)
	cs := startSecureChat(t, sec, "chat-1", nil)
	// A short max-interval: a client cut off is dropped soon.
	w := startSecureWeb(t, sec, func(o *config.WebAPIOptions) { o.CometD.MaxInterval = 2 * time.Second }, cs)
	scheme, rest, _ := strings.Cut(w.base, "://")
	var env []string
	if sec != nil {
		env = append(env, "NODE_EXTRA_CA_CERTS="+sec.caFile)
	}
	for _, tr := range []string{"websocket", "long-polling", "callback-polling"} {
		t.Run(tr, func(t *testing.T) {
			cut := partition.Start(t, strings.SplitN(rest, "/", 2)[0])
			url := scheme + "://" + cut.Addr() + "/genesys/cometd"
			res := runChatClient(t, node, env, url, tr, func(out *bufio.Scanner, in io.WriteCloser) string {
				return playAgent(t, out, in, cs, w, cut)
			})
			if res.Handshakes != 2 || len(res.Transports) != 2 || res.Transports[0] != tr || res.Transports[1] != tr ||
				len(res.ClientIDs) != 2 || res.ClientIDs[0] == res.ClientIDs[1] ||
				!res.Disconnected || len(res.Errors) > 0 || len(res.EnvelopeErrors) > 0 {
				t.Errorf("client results %+v", res)
			}
			if !slices.ContainsFunc(res.Unsuccessful, func(e string) bool { return strings.HasPrefix(e, "402::") }) {
				t.Errorf("the client was not told its session was gone (402): %q", res.Unsuccessful)
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

// runChatClient runs chat.mjs over transport, with env added to its
// environment and play answering its lines, and returns its results.
func runChatClient(t *testing.T, node string, env []string, url, transport string, play func(*bufio.Scanner, io.WriteCloser) string) chatJSResult {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "chat.mjs", url, transport, "customer-support")
	cmd.Dir = chatJSDir
	cmd.Env = append(os.Environ(), env...)
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
	last := play(bufio.NewScanner(stdout), stdin)
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
// "chat" an agent joins cs and greets once the client's message arrived; on
// "drop" the client's connections are cut until the web API w dropped its
// CometD session, then let through again; on "rehandshake" the agent says
// something and lets the script resume; on "back" it says welcome back.
func playAgent(t *testing.T, out *bufio.Scanner, in io.WriteCloser, cs chatServer, w *web, cut *partition.Proxy) string {
	defer in.Close()
	var a *agent
	var line string
	for out.Scan() {
		line = out.Text()
		var ev struct{ Event, ChatID, ClientID string }
		if json.Unmarshal([]byte(line), &ev) != nil {
			continue
		}
		if a == nil && ev.Event != "" && ev.Event != "chat" {
			t.Fatalf("chat.mjs printed %q before the chat", line)
		}
		switch ev.Event {
		case "chat":
			a = joinAgentTo(t, cs, ev.ChatID)
			a.waitFor("the client's message", func(m transcript.APIMessage) bool { return m.Text == "hello from js" })
			a.say("hello from the agent", transcript.VisAll)
		case "drop":
			cut.Cut()
			eventually(t, "the client's CometD session dropped", func() bool { return !w.srv.CometClient(ev.ClientID) })
			cut.Mend()
		case "rehandshake":
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
	node := testenv.NeedCommand(t, "node")
	npm := testenv.NeedCommand(t, "npm")
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

package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// crossOriginDir holds the customer page of the cross-origin browser test.
const crossOriginDir = "testdata/crossorigin"

// servePage serves the customer page and the official CometD client
// (installed by npm in cometdCustomerDir) from its own listener: another
// origin than the web API's.
func servePage(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(crossOriginDir, "customer.html"))
	})
	lib := http.Dir(filepath.Join(cometdCustomerDir, "node_modules", "cometd"))
	mux.Handle("GET /cometd/", http.StripPrefix("/cometd/", http.FileServer(lib)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestBrowserCrossOrigin is issue 20's "Done when" in chromium: a customer
// page served from one origin, the web API on another that allows it
// (allowed-origins), and a whole chat over REST (fetch) and over the
// official CometD client on websocket, long-polling and callback-polling.
// In each, a page reload in the middle resumes the chat (REST refresh,
// CometD requestNotifications) with the key of the latest reply, and the
// next message goes through. The agent answers through the wire.
func TestBrowserCrossOrigin(t *testing.T) {
	node := requireBrowser(t)
	requireCometdNode(t)
	page := servePage(t)
	c := startCluster(t, "sqlite", "", fmt.Sprintf("allowed-origins: %q", page.URL))
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "crossorigin.mjs", c.url("gms-1", "http", ""), t.ArtifactDir(), page.URL+"/")
	cmd.Dir = browserDir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	modes := c.answerChats(ctx, stdout, stdin)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("crossorigin.mjs: %v\n%s", err, stderr.String())
	}
	if want := []string{"rest", "websocket", "long-polling", "callback-polling"}; fmt.Sprint(modes) != fmt.Sprint(want) {
		t.Errorf("resumed chats over %v, want %v", modes, want)
	}
}

// answerChats reads the scenario's lines until it ends: on {"chat": ...}
// an agent joins the chat and answers each customer message with "re: "
// and its text, then a line on in lets the scenario go on. It returns the
// modes whose chat the scenario resumed after a reload.
func (c *cluster) answerChats(ctx context.Context, out io.Reader, in io.WriteCloser) []string {
	defer in.Close()
	var resumed []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var l struct {
			Chat *struct {
				ChatID, UserID, SecureKey, Alias, Mode string
			}
			Resumed *struct{ Mode string }
		}
		c.t.Logf("scenario: %s", sc.Text())
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		if l.Resumed != nil {
			resumed = append(resumed, l.Resumed.Mode)
		}
		if l.Chat == nil {
			continue
		}
		ch := &haChat{id: l.Chat.ChatID, user: l.Chat.UserID, key: l.Chat.SecureKey, alias: l.Chat.Alias, home: l.Chat.Alias, position: 1}
		err := c.join(ctx, ch, c.addrs[ch.alias], map[string]any{"sessionId": ch.id, "nickname": "agent", "personId": "agent",
			"grant": c.web().grant("agent", ch.id)})
		if err != nil {
			c.t.Errorf("%s: %v", l.Chat.Mode, err)
			return resumed
		}
		go c.echo(ctx, ch)
		fmt.Fprintln(in, "joined")
	}
	return resumed
}

// echo has ch's agent answer each customer message, once, until ctx ends.
func (c *cluster) echo(ctx context.Context, ch *haChat) {
	answered := 0
	for ctx.Err() == nil {
		ch.mu.Lock()
		var texts []string
		for _, p := range ch.pushed[answered:] {
			if p.Type == "Message" && p.From.Type == "Client" {
				texts = append(texts, p.Text)
			}
		}
		answered = len(ch.pushed)
		ch.mu.Unlock()
		for _, text := range texts {
			body := map[string]any{"sessionId": ch.id, "userId": ch.agentID, "text": "re: " + text}
			if _, err := ch.agent.Request(ctx, wire.RequestMessage, body, nil); err != nil && ctx.Err() == nil {
				c.t.Errorf("agent answer to %q: %v", text, err)
				return
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

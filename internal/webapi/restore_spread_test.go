package webapi_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/webapi"
)

// staleStatus keeps a web API on its first status read of each chat server.
func staleStatus(o *config.WebAPIOptions) { o.Settings.StatusPollInterval = time.Minute }

// TestRestoresSpread: six chats lose their chat server at once; the web
// API restores them, concurrently, on the two others, which its last
// status read says are equally empty: each takes three, rather than all
// six landing on the one that was least loaded at that read.
func TestRestoresSpread(t *testing.T) {
	cs := startShared(t, "chat-1", "chat-2", "chat-3")
	only := startWeb(t, nil, cs[0].chatServer) // every chat on chat-1
	w := startWeb(t, staleStatus, cs[0].chatServer, cs[1].chatServer, cs[2].chatServer)
	var chats []customer
	for range 6 {
		chats = append(chats, only.requestChat(nil).on(w))
	}
	cs[0].kill()
	eventually(t, "the web API sees chat-1 gone", func() bool { return !w.srv.Connected("chat-1") })
	var mu sync.Mutex
	on := map[string]int{}
	var wg sync.WaitGroup
	for _, c := range chats {
		wg.Go(func() {
			env := c.call("refresh", "transcriptPosition", "1")
			mu.Lock()
			defer mu.Unlock()
			if env.StatusCode != 0 {
				t.Errorf("refresh after chat-1 died = %+v", env)
				return
			}
			on[env.Alias]++
		})
	}
	wg.Wait()
	if on["chat-2"] != 3 || on["chat-3"] != 3 {
		t.Errorf("restored on %v, want 3 on chat-2 and 3 on chat-3", on)
	}
}

// logBuffer collects a logger's lines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLoggedWeb is startWeb with its logs written to log.
func startLoggedWeb(t *testing.T, log *logBuffer, edit func(*config.WebAPIOptions), chats ...chatServer) *web {
	t.Helper()
	opts := config.DefaultWebAPIOptions()
	edit(&opts)
	eps := map[string]service.Endpoint{}
	for _, c := range chats {
		eps[c.name] = c.endpoint()
	}
	srv, err := webapi.New(webapi.Config{Name: "gms-2", ChatServers: eps, Options: opts,
		Logger: slog.New(slog.NewTextHandler(log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	serve(t, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
	for _, c := range chats {
		eventually(t, c.name+" selectable", func() bool { return srv.Accepting(c.name) })
	}
	return &web{t: t, srv: srv, base: "http://" + ln.Addr().String() + "/genesys/2/chat/customer-support"}
}

// TestRestoreDeferralLog: a chat server asked to restore a chat that
// another one already restored names that owner; the web API logs that it
// deferred to it, not that it restored the chat.
func TestRestoreDeferralLog(t *testing.T) {
	// The fleet's chat servers know each other (Peers): a server defers
	// only to an owner it sees alive.
	f := startFleet(t, "chat-1", "chat-2", "chat-3")
	c := startWeb(t, nil, f.server("chat-1")).requestChat(nil) // on chat-1
	first := startWeb(t, nil, f.server("chat-1"), f.server("chat-3"))
	var log logBuffer
	second := startLoggedWeb(t, &log, staleStatus, f.server("chat-1"), f.server("chat-2"), f.server("chat-3"))
	f.kill("chat-1")
	eventually(t, "both web APIs see chat-1 gone", func() bool {
		return !first.srv.Connected("chat-1") && !second.srv.Connected("chat-1")
	})
	if env := c.on(first).must("refresh", "transcriptPosition", "1"); env.Alias != "chat-3" {
		t.Fatalf("restored on %s, want chat-3", env.Alias)
	}
	// The second web API still has alias chat-1 from the client and asks
	// chat-2 first (equal loads: by name), which defers to chat-3.
	if env := c.on(second).must("refresh", "transcriptPosition", "1"); env.Alias != "chat-3" {
		t.Fatalf("second web API: alias %s, want chat-3", env.Alias)
	}
	out := log.String()
	if !strings.Contains(out, `msg="chat restore deferred to its owner" chat=`+c.chatID+` from=chat-1 asked=chat-2 owner=chat-3`) {
		t.Errorf("no deferral logged:\n%s", out)
	}
	if strings.Contains(out, `msg="chat restored"`) {
		t.Errorf("a deferral logged as a restore:\n%s", out)
	}
}

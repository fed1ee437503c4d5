package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// embedDir holds the shop page that embeds the widget.
const embedDir = "testdata/embed"

// serveShop serves a shop's page, on an origin of its own, that embeds the
// widget of the web API api() returns with one script tag, under the
// shop's own strict Content-Security-Policy.
func serveShop(t *testing.T, api func() string) *httptest.Server {
	t.Helper()
	page, err := os.ReadFile(filepath.Join(embedDir, "shop.html"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", fmt.Sprintf(
			"default-src 'self'; script-src 'self' %[1]s; frame-src %[1]s; style-src 'self'; img-src 'self'", api()))
		fmt.Fprint(w, strings.ReplaceAll(string(page), "{{API}}", api()))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestBrowserEmbeddedWidget is issue 24's widget in chromium: a shop's page
// on another origin embeds it with one script tag; the launcher opens the
// panel with the shop's title, colour and pre-chat field; axe-core finds no
// WCAG A/AA violation; the agent sees the field's userData; the unread count
// shows on the launcher and in the title while the panel is closed; the
// customer rates the chat while ending it and downloads the transcript;
// the agent, notified of the invitation, sees the customer leave and is
// done with a disposition. The rating, the field and the disposition are
// filed with the interaction in the contact store.
func TestBrowserEmbeddedWidget(t *testing.T) {
	node := requireBrowser(t)
	var api atomic.Value
	shop := serveShop(t, func() string { s, _ := api.Load().(string); return s })
	c := startDesktopWith(t, false, false, fmt.Sprintf("allowed-origins: %q", shop.URL))
	api.Store(strings.TrimSuffix(c.url("gms-1", "http", ""), "/"))

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "widget.mjs", c.url("gms-1", "http", ""), t.ArtifactDir(), shop.URL+"/")
	cmd.Dir = browserDir
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("widget.mjs: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	t.Logf("widget.mjs:\n%s", stdout.String())
	var id string
	for _, l := range strings.Split(stdout.String(), "\n") {
		if rest, ok := strings.CutPrefix(l, "chat "); ok {
			id = strings.TrimSpace(rest)
		}
	}
	if id == "" {
		t.Fatal("widget.mjs did not name the chat")
	}
	contacts := openContacts(t, "sqlite", c.dataDir)
	deadline := time.Now().Add(20 * time.Second)
	for {
		in, err := contacts.Interaction(ctx, id)
		if err == nil {
			ud := in.UserData
			if ud["ChatRating"] != "4" || ud["OrderNumber"] != "A-1001" || ud["DispositionCode"] != "Resolved" {
				t.Errorf("interaction %s filed with userData %v, want ChatRating 4, OrderNumber A-1001, DispositionCode Resolved", id, ud)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("interaction %s not filed: %v", id, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

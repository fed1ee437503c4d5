package cli

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestAdminListen runs a chat server with an admin listener: there /metrics,
// /kpi and /status answer without credentials, while the application's own
// listener still asks for the admin token, and the admin actions are not
// served on the admin listener at all.
func TestAdminListen(t *testing.T) {
	dir := t.TempDir()
	held, addrs := holdListeners(t, "chat-1", adminName("chat-1"))
	chat, admin := addrs["chat-1"], addrs[adminName("chat-1")]
	file := filepath.Join(dir, "parley.yaml")
	yaml := fmt.Sprintf(`data-dir: %s
databases: {main: {driver: sqlite, dsn: parley.db}}
applications:
  chat-1: {type: chat-server, listen: "%s", admin-listen: "%s", database: main}
`, filepath.Join(dir, "data"), chat, admin)
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	runApp(t, held, file, "chat-1")
	waitHealth(t, admin, http.StatusOK, "ok")
	status := func(method, url string) int {
		t.Helper()
		req, _ := http.NewRequest(method, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		method, url string
		want        int
	}{
		{"GET", "http://" + admin + "/metrics", 200},
		{"GET", "http://" + admin + "/kpi", 200},
		{"GET", "http://" + admin + "/status", 200},
		{"POST", "http://" + admin + "/admin/disable", 404},
		{"GET", "http://" + chat + "/metrics", 401},
		{"GET", "http://" + chat + "/kpi", 401},
		{"POST", "http://" + chat + "/admin/disable", 401},
	} {
		if got := status(c.method, c.url); got != c.want {
			t.Errorf("%s %s = %d, want %d", c.method, c.url, got, c.want)
		}
	}
}

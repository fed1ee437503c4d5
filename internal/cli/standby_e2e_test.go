package cli

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/settle"
)

// startPairCluster runs `parley up` with chat-1 and its backup chat-2 (a
// warm-standby pair) on database db and a web API connected to chat-1
// only, and waits until chat-1 serves as the primary and chat-2 stands by;
// withTLS turns TLS on everywhere (see cluster.withTLS). It returns the
// cluster and its deployment file.
func startPairCluster(t *testing.T, db string, withTLS bool) (*cluster, string) {
	t.Helper()
	dir := t.TempDir()
	c := newCluster(t, dir, "chat-1", "chat-2", "gms-1")
	const chat = "session-restoration-mode: simple, transcript-auto-save: 1, backup-takeover-timeout: 1"
	yaml := fmt.Sprintf(`data-dir: %s
databases:
  main: %s
applications:
  chat-1: {type: chat-server, listen: "%s", database: main, backup: chat-2, options: {settings: {%s}}}
  chat-2: {type: chat-server, listen: "%s", database: main, options: {settings: {%s}}}
  gms-1:
    type: web-api
    listen: "%s"
    connections: [chat-1]
    options: {settings: {request-timeout: 8, status-poll-interval: 1}, limits: {new-chats-per-address: 0, max-connections-per-address: 0}, log: {verbose: debug}}
`, c.dataDir, databaseYAML(db), c.addrs["chat-1"], chat, c.addrs["chat-2"], chat, c.addrs["gms-1"])
	if withTLS {
		yaml = c.withTLS(yaml)
	}
	c.launch(dir, yaml, "chat-1", "chat-2", "gms-1")
	c.waitRoles(map[string]string{"chat-1": chatserver.RolePrimary, "chat-2": chatserver.RoleBackup})
	return c, filepath.Join(dir, "parley.yaml")
}

// status reads chat server name's GET /status, signed as the web API.
func (c *cluster) status(name string) (chatserver.Status, error) {
	var st chatserver.Status
	resp, err := c.web().get(c.url(name, "http", "/status"), name)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// waitRoles waits until each chat server of want answers with its role.
func (c *cluster) waitRoles(want map[string]string) {
	c.t.Helper()
	got := map[string]string{}
	ok := settle.Poll(30*time.Second, func() bool {
		for name, role := range want {
			st, err := c.status(name)
			got[name] = fmt.Sprint(st.Role, err)
			if err != nil || st.Role != role || st.Accepting != (role == chatserver.RolePrimary) {
				return false
			}
		}
		return true
	})
	if !ok {
		c.t.Fatalf("roles %v, want %v", got, want)
	}
}

// TestWarmStandbyEndToEnd is the seed's warm-standby test: 50 chats, each
// with a customer over REST through the web API (configured with the
// primary only) and an agent on the desktop bridge's wire, all on the
// primary; the primary is killed (kill -9) while they talk; the backup takes
// the primary role and every chat goes on there, every acknowledged message
// in the final transcript once.
func TestWarmStandbyEndToEnd(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			db := backendDB(t, backend)
			c, _ := startPairCluster(t, db, false)
			// The backup takes over after backup-takeover-timeout (1 s),
			// the web API places chats there after its next status poll.
			runFault(t, c, db, 6*time.Second, func(victim string) { c.signal(victim, syscall.SIGKILL) })
			c.waitRoles(map[string]string{"chat-2": chatserver.RolePrimary})
		})
	}
}

// TestSwitchoverEndToEnd is the switchover variant: `parley switchover`
// swaps the roles of the live pair while the 50 chats' customers and agents
// are sending, with messages in flight; every chat goes on on the new
// primary, every acknowledged message kept and none duplicated, and the old
// primary stands by.
func TestSwitchoverEndToEnd(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres", "sqlite-tls"} {
		t.Run(backend, func(t *testing.T) {
			db := backendDB(t, backend)
			// With TLS, parley switchover reaches both members over TLS too.
			c, file := startPairCluster(t, db, backend == "sqlite-tls")
			runFault(t, c, db, 4*time.Second, func(victim string) {
				out, err := exec.Command(buildParley(t), "switchover", "--config", file, "--app", "chat-2").CombinedOutput()
				if err != nil || !strings.Contains(string(out), "chat-1 is now the backup; chat-2 takes the primary role") {
					t.Errorf("parley switchover: %v\n%s", err, out)
				}
			})
			c.waitRoles(map[string]string{"chat-1": chatserver.RoleBackup, "chat-2": chatserver.RolePrimary})
		})
	}
}

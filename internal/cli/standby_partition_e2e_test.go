package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/store/storetest"
)

// cutProxy forwards TCP connections to a target until it is cut: then it
// closes the connections it carries and closes every new one at once, as
// a network partition does.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex // guards cut and conns
	cut    bool
	conns  []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.setCut(true) })
	go p.serve()
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

// track keeps c to be closed at the next cut; false (c closed) while cut.
func (p *cutProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		c.Close()
		return false
	}
	p.conns = append(p.conns, c)
	return true
}

func (p *cutProxy) forward(c net.Conn) {
	if !p.track(c) {
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(up) {
		c.Close()
		return
	}
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

// setCut cuts (closing what it carries) or heals the link.
func (p *cutProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

// TestWarmStandbyPartitionEndToEnd runs a pair as real `parley run`
// processes on PostgreSQL, each reaching its partner and the database
// through a link the test can cut (its own copy of the deployment file
// names the proxies). Cut off from both its primary and the database, the
// backup does not promote itself; with the database back (the primary
// still out of reach) it takes over, and the primary, reading the pair's
// record, stands down. Then the new primary is killed (kill -9): the other
// takes over, and the killed one, restarted, comes back as the backup.
// (On SQLite the database is a local file a partition cannot cut.)
func TestWarmStandbyPartitionEndToEnd(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	held, addrs := holdListeners(t, "chat-1", "chat-2")
	partner := map[string]string{"chat-1": "chat-2", "chat-2": "chat-1"}
	toPeer, toDB, files := map[string]*cutProxy{}, map[string]*cutProxy{}, map[string]string{}
	for name, other := range partner {
		toPeer[name], toDB[name] = newCutProxy(t, addrs[other]), newCutProxy(t, u.Host)
		via := *u
		via.Host = toDB[name].addr()
		listen := map[string]string{name: addrs[name], other: toPeer[name].addr()}
		files[name] = filepath.Join(dir, name+".yaml")
		yaml := fmt.Sprintf(`data-dir: %s
databases:
  main: {driver: postgres, dsn: %q}
applications:
  chat-1: {type: chat-server, listen: "%s", database: main, backup: chat-2, options: {settings: {backup-takeover-timeout: 1}}}
  chat-2: {type: chat-server, listen: "%s", database: main, options: {settings: {backup-takeover-timeout: 1}}}
`, dataDir, via.String(), listen["chat-1"], listen["chat-2"])
		if err := os.WriteFile(files[name], []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := createSecret(filepath.Join(dataDir, "secret")); err != nil { // both processes, and the test, read it
		t.Fatal(err)
	}
	admin := peerAs(t, dataDir, "admin")
	procs := map[string]*os.Process{}
	run := func(name string, h *heldListeners) { procs[name] = runApp(t, h, files[name], name).Process }
	roles := func(want map[string]string) {
		t.Helper()
		waitPairRoles(t, admin, addrs, want)
	}
	run("chat-1", held)
	roles(map[string]string{"chat-1": chatserver.RolePrimary})
	run("chat-2", held)
	roles(map[string]string{"chat-1": chatserver.RolePrimary, "chat-2": chatserver.RoleBackup})

	toPeer["chat-2"].setCut(true)
	toDB["chat-2"].setCut(true)
	// Five times backup-takeover-timeout: the roles must not change.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got := pairRoles(admin, addrs); got["chat-1"] != chatserver.RolePrimary || got["chat-2"] != chatserver.RoleBackup {
			t.Fatalf("roles changed while the backup was cut off from its primary and the database: %v", got)
		}
		time.Sleep(100 * time.Millisecond) // sampling a state that must not change
	}
	toDB["chat-2"].setCut(false)
	roles(map[string]string{"chat-1": chatserver.RoleBackup, "chat-2": chatserver.RolePrimary})
	toPeer["chat-2"].setCut(false)

	if err := procs["chat-2"].Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	roles(map[string]string{"chat-1": chatserver.RolePrimary})
	run("chat-2", nil) // its port was the killed process's alone: the new one binds it
	roles(map[string]string{"chat-1": chatserver.RolePrimary, "chat-2": chatserver.RoleBackup})
}

// pairRoles reads the role of each chat server of names (every one of
// addrs when none is named) from its GET /status, with the admin token; ""
// for one that does not answer.
func pairRoles(admin testPeer, addrs map[string]string, names ...string) map[string]string {
	if len(names) == 0 {
		names = slices.Collect(maps.Keys(addrs))
	}
	got := map[string]string{}
	for _, name := range names {
		resp, err := admin.adminGet("http://" + addrs[name] + "/status")
		if err != nil {
			continue
		}
		var st chatserver.Status
		if json.NewDecoder(resp.Body).Decode(&st) == nil {
			got[name] = st.Role
		}
		resp.Body.Close()
	}
	return got
}

// waitPairRoles waits until each chat server of want has its role.
func waitPairRoles(t *testing.T, admin testPeer, addrs map[string]string, want map[string]string) {
	t.Helper()
	var got map[string]string
	if !settle.Poll(30*time.Second, func() bool {
		got = pairRoles(admin, addrs, slices.Collect(maps.Keys(want))...)
		for name, role := range want {
			if got[name] != role {
				return false
			}
		}
		return true
	}) {
		t.Fatalf("roles %v, want %v", got, want)
	}
}

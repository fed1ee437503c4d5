package ixnproxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/ixn/ixnproxy"
	"github.com/parley-chat/parley/internal/ixn/ixnserver"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/wire"
)

// nodeOptions are the options of every test node: two agents whose
// password is their id, a builtin queue and an external one.
func nodeOptions(t testing.TB, extra string) config.InteractionServerOptions {
	t.Helper()
	agent := func(id string) string {
		return fmt.Sprintf("      agent:%s: {password-hash: %q, capacity-chat: 5}\n", id, ixn.HashPassword(id, "parley-test-salt-"+id, ixn.MinPasswordIterations))
	}
	d, err := config.Parse("t.yaml", []byte("databases: {main: {driver: sqlite, dsn: x.db}}\napplications:\n"+
		"  ixn-1:\n    type: interaction-server\n    listen: 127.0.0.1:1\n    database: main\n    options:\n"+
		"      queue:default: {routing: builtin}\n      queue:ext: {routing: external}\n"+agent("alice")+agent("bob")+extra))
	if err != nil {
		t.Fatal(err)
	}
	return *d.Applications["ixn-1"].Ixn
}

// testNode is one interaction server on its own SQLite database.
type testNode struct {
	name string
	addr string
	dsn  string
	opts config.InteractionServerOptions
	stop func()
}

func startNode(t testing.TB, name string, opts config.InteractionServerOptions) *testNode {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{name: name, addr: ln.Addr().String(), dsn: filepath.Join(dir, "ixn.db"), opts: opts}
	n.stop = serveNode(t, name, opts, n.dsn, ln)
	return n
}

// restart starts the stopped node again on its address and database.
func (n *testNode) restart(t testing.TB) {
	t.Helper()
	ln, err := net.Listen("tcp", n.addr)
	if err != nil {
		t.Fatal(err)
	}
	n.stop = serveNode(t, n.name, n.opts, n.dsn, ln)
}

// serveNode runs an interaction server on ln until the returned func.
func serveNode(t testing.TB, name string, opts config.InteractionServerOptions, dsn string, ln net.Listener) func() {
	t.Helper()
	db, err := sqlite.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ixnserver.New(ixnserver.Config{Name: name, Options: opts, Store: db.Interactions()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("node %s: %v", name, err)
			}
			db.Close()
		})
	}
	t.Cleanup(stop)
	return stop
}

func (n *testNode) node() ixnproxy.Node {
	return ixnproxy.Node{Name: n.name, Servers: []service.Endpoint{{Name: n.name, Addr: n.addr}}}
}

// testProxy is a proxy on a loopback port.
type testProxy struct {
	addr string
	stop func()
}

func startProxy(t testing.TB, nodes ...ixnproxy.Node) *testProxy {
	t.Helper()
	return startProxyUp(t, len(nodes), nodes...)
}

// startProxyUp starts a proxy of nodes and waits until it reaches up of
// them.
func startProxyUp(t testing.TB, up int, nodes ...ixnproxy.Node) *testProxy {
	t.Helper()
	opts := config.DefaultProxyOptions()
	opts.RequestTimeout, opts.PullHoldTimeout = 3*time.Second, time.Second
	p, err := ixnproxy.New(ixnproxy.Config{Name: "proxy-1", Nodes: nodes, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, ln) }()
	var once sync.Once
	tp := &testProxy{addr: ln.Addr().String(), stop: func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("proxy: %v", err)
			}
		})
	}}
	t.Cleanup(tp.stop)
	gauge := fmt.Sprintf("\nparley_ixnproxy_nodes_up %d\n", up)
	settle.Eventually(t, 5*time.Second, "the proxy finds its nodes", func() bool {
		return strings.Contains(httpBody("http://"+tp.addr+"/metrics"), gauge)
	})
	return tp
}

// client is a wire connection recording the events it receives.
type client struct {
	t    testing.TB
	conn *wire.Conn
	mu   sync.Mutex
	evs  []wire.Message
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := wire.Dial(ctx, "ws://"+addr+ixnserver.Path, wire.Options{QueueSize: 16384})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, conn: conn}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = conn.Serve(context.Background(), wire.HandlerFunc(func(_ context.Context, _ *wire.Conn, m wire.Message) {
			c.mu.Lock()
			c.evs = append(c.evs, m)
			c.mu.Unlock()
		}))
	}()
	t.Cleanup(func() {
		conn.Close()
		<-served
	})
	return c
}

func register(t testing.TB, addr, name, kind string) *client {
	t.Helper()
	c := dial(t, addr)
	c.ok(wire.RequestRegisterClient, map[string]string{"clientName": name, "clientType": kind})
	return c
}

func (c *client) do(name string, body any) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var reply map[string]any
	_, err := c.conn.Request(ctx, name, body, &reply)
	return reply, err
}

func (c *client) ok(name string, body any) map[string]any {
	c.t.Helper()
	r, err := c.do(name, body)
	if err != nil {
		c.t.Fatalf("%s: %v", name, err)
	}
	return r
}

func (c *client) fails(name string, body any, code wire.Code) {
	c.t.Helper()
	_, err := c.do(name, body)
	if we, ok := errors.AsType[*wire.Error](err); !ok || we.Code != code {
		c.t.Fatalf("%s: %v, want code %d", name, err, code)
	}
}

// events returns the bodies of the events named name so far.
func (c *client) events(name string) []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []map[string]any
	for _, m := range c.evs {
		if m.Name == name || name == "" {
			var b map[string]any
			_ = json.Unmarshal(m.Body, &b)
			b["@name"] = m.Name
			out = append(out, b)
		}
	}
	return out
}

// invited waits for an EventInvite and returns its interaction id.
func (c *client) invited(skip map[string]bool) string {
	c.t.Helper()
	var id string
	settle.Eventually(c.t, 5*time.Second, "an invitation", func() bool {
		for _, e := range c.events(wire.EventInvite) {
			if s, _ := e["interactionId"].(string); !skip[s] {
				id = s
				return true
			}
		}
		return false
	})
	return id
}

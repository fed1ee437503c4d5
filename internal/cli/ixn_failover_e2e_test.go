package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/wire"
)

// TestIxnPrimaryKilled runs a primary/backup pair of interaction servers
// as real `parley run` processes on one PostgreSQL schema, with chats
// waiting in a queue, one held by an agent and one on hold in her workbin,
// then SIGKILLs the primary: within 5 s the backup serves a client that
// reconnects to it, and every interaction is there with its state, place
// and properties.
func TestIxnPrimaryKilled(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	dir := t.TempDir()
	// chat-1 and gms-1 are held and never served: the test plays their parts.
	held, addrs := holdListeners(t, "ixn-1", "ixn-2", "chat-1", "gms-1")
	file := filepath.Join(dir, "parley.yaml")
	agent := fmt.Sprintf("{password-hash: %q, capacity-chat: 2}", ixn.HashPassword("alice", "parley-test-salt-alice", ixn.MinPasswordIterations))
	yaml := fmt.Sprintf(`data-dir: %s
databases:
  main: {driver: postgres, dsn: %q}
applications:
  ixn-1: {type: interaction-server, listen: "%s", database: main, options: {agent:alice: %s}}
  ixn-2: {type: interaction-server, listen: "%s", database: main, options: {agent:alice: %s}}
  # Not run: the test plays their parts, proving their names.
  chat-1: {type: chat-server, listen: "%s", database: main, connections: [ixn-1, ixn-2]}
  gms-1: {type: web-api, listen: "%s", connections: [ixn-1, ixn-2]}
`, filepath.Join(dir, "data"), dsn, addrs["ixn-1"], agent, addrs["ixn-2"], agent, addrs["chat-1"], addrs["gms-1"])
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	primary := runApp(t, held, file, "ixn-1")
	waitHealth(t, addrs["ixn-1"], http.StatusOK, "ok")
	runApp(t, held, file, "ixn-2")
	waitHealth(t, addrs["ixn-2"], http.StatusServiceUnavailable, "backup")

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	events := make(chan wire.Message, 64)
	dataDir := filepath.Join(dir, "data")
	desk := dialEvents(ctx, t, peerAs(t, dataDir, "gms-1"), "ws://"+addrs["ixn-1"]+"/wire/ixn", "ixn-1", events)
	request(ctx, t, desk, wire.RequestRegisterClient, map[string]string{"clientName": "gms-1/alice", "clientType": "agent"}, nil)
	request(ctx, t, desk, wire.RequestAgentLogin, map[string]string{"agentId": "alice", "password": "alice"}, nil)
	chatServer := peerAs(t, dataDir, "chat-1")
	chat := chatServer.dial(ctx, t, "ws://"+addrs["ixn-1"]+"/wire/ixn", "ixn-1", nil)
	request(ctx, t, chat, wire.RequestRegisterClient, map[string]string{"clientName": "chat-1", "clientType": "media-server"}, nil)
	submit := func(id string) {
		request(ctx, t, chat, wire.RequestSubmit, map[string]any{"interactionId": id, "queue": "default",
			"properties": map[string]string{"Subject": "about " + id}}, nil)
		waitMessage(t, events, wire.EventInvite)
		request(ctx, t, desk, wire.RequestAccept, map[string]string{"interactionId": id}, nil)
	}
	submit("onhold")
	request(ctx, t, desk, wire.RequestPlaceInWorkbin, map[string]string{"interactionId": "onhold", "workbin": "async"}, nil)
	submit("held")
	request(ctx, t, chat, wire.RequestChangeProperties, map[string]any{"interactionId": "held",
		"addedProperties": map[string]string{"Note": "vip"}}, nil)
	request(ctx, t, desk, wire.RequestAgentNotAvailable, map[string]string{"reason": "break"}, nil)
	for _, id := range []string{"q1", "q2"} {
		request(ctx, t, chat, wire.RequestSubmit, map[string]any{"interactionId": id, "queue": "default",
			"properties": map[string]string{"Subject": "about " + id}}, nil)
	}
	before := map[string]ixn.Interaction{}
	for _, id := range []string{"onhold", "held", "q1", "q2"} {
		before[id] = properties(ctx, t, chat, id)
	}

	if err := primary.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	var backup *wire.Conn
	if !settle.Poll(5*time.Second, func() bool {
		backup = dialRegistered(ctx, chatServer, addrs["ixn-2"])
		return backup != nil
	}) {
		t.Fatalf("the backup did not serve within 5 s of the primary's kill")
	}
	t.Logf("backup served %s after the primary's SIGKILL", time.Since(killed).Round(time.Millisecond))
	defer backup.Close()
	for id, want := range before {
		got := properties(ctx, t, backup, id)
		if got.State != want.State || got.Queue != want.Queue || got.Workbin != want.Workbin ||
			!reflect.DeepEqual(got.Agents, want.Agents) || !reflect.DeepEqual(got.Properties, want.Properties) {
			t.Errorf("%s after the take-over:\n got %+v\nwant %+v", id, got, want)
		}
	}
	if before["held"].State != ixn.StateHandling || before["onhold"].State != ixn.StateInWorkbin || before["q1"].State != ixn.StateQueued {
		t.Errorf("states before the kill: %+v", before)
	}
}

// runApp runs `parley run --config file --app name` until the test ends,
// handing it its listeners from held: NAME, and NAME/admin if held has one;
// with a nil held it binds its listen address itself.
func runApp(t *testing.T, held *heldListeners, file, name string) *exec.Cmd {
	t.Helper()
	return runBin(t, buildParley(t), held, file, name)
}

// runBin is runApp with the parley binary bin.
func runBin(t *testing.T, bin string, held *heldListeners, file, name string) *exec.Cmd {
	t.Helper()
	out := &syncBuffer{}
	cmd := exec.Command(bin, "run", "--config", file, "--app", name)
	cmd.Stdout, cmd.Stderr = out, out
	if held == nil { // the process binds its listen address itself
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	} else {
		names := []string{name}
		if held.lns[adminName(name)] != nil {
			names = append(names, adminName(name))
		}
		held.start(cmd, names...)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	return cmd
}

// waitHealth waits until GET /healthz at addr answers code and text.
func waitHealth(t *testing.T, addr string, code int, text string) {
	t.Helper()
	settle.Eventually(t, 20*time.Second, addr+" /healthz "+text, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == code && strings.TrimSpace(string(b)) == text
	})
}

// dialRegistered connects to the interaction server at addr and registers
// as a media server; nil when it does not serve.
func dialRegistered(ctx context.Context, p testPeer, addr string) *wire.Conn {
	rctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	c, err := p.tryDial(ctx, "ws://"+addr+"/wire/ixn", "ixn-2", nil)
	if err != nil {
		return nil
	}
	if _, err := c.Request(rctx, wire.RequestRegisterClient, map[string]string{"clientName": "chat-1", "clientType": "media-server"}, nil); err != nil {
		c.Close()
		return nil
	}
	return c
}

// properties returns interaction id as the server at c holds it.
func properties(ctx context.Context, t *testing.T, c *wire.Conn, id string) ixn.Interaction {
	t.Helper()
	var reply struct{ Interaction ixn.Interaction }
	request(ctx, t, c, wire.RequestGetInteractionProperties, map[string]string{"interactionId": id}, &reply)
	return reply.Interaction
}

// TestCheckConfigTwoIxnOnSQLite: two interaction servers on one SQLite
// database would both serve (only PostgreSQL has the primary lock), so
// check-config refuses it in one line naming the file and application.
func TestCheckConfigTwoIxnOnSQLite(t *testing.T) {
	for _, tt := range []struct{ db, want string }{
		{"{driver: sqlite, dsn: parley.db}", `: application "ixn-2": database = main: also the database of interaction server "ixn-1"`},
		{`{driver: postgres, dsn: "postgres://db/parley"}`, ""},
	} {
		file := filepath.Join(t.TempDir(), "pair.yaml")
		yaml := "databases:\n  main: " + tt.db + "\napplications:\n" +
			"  ixn-1: {type: interaction-server, listen: 127.0.0.1:7010, database: main}\n" +
			"  ixn-2: {type: interaction-server, listen: 127.0.0.1:7011, database: main}\n"
		if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runMain(t, "check-config", "--config", file)
		switch {
		case tt.want == "" && (code != exitOK || errOut != ""):
			t.Errorf("%s: exit %d, stderr %q", tt.db, code, errOut)
		case tt.want != "" && (code != exitFailure || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, file+tt.want)):
			t.Errorf("%s: exit %d, stderr %q, want one line with %q", tt.db, code, errOut, file+tt.want)
		}
	}
}

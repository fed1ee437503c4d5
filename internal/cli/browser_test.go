package cli

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/testenv"
)

// The browser tests drive Debian's chromium with playwright-core (pinned in
// testdata/browser) through the customer widget and the agent desktop of a
// real `parley up`. Screenshots of every step go to the test's artifact
// directory: run with -artifacts to keep them.

// browserDir holds the scenarios and their pinned npm packages.
const browserDir = "testdata/browser"

// chromiumPath is Debian's chromium, which playwright-core drives.
const chromiumPath = "/usr/bin/chromium"

// requireBrowser returns node after installing the pinned npm packages, or
// skips the test when node, npm or chromium is missing (fails under
// PARLEY_REQUIRE_ALL=1).
func requireBrowser(t *testing.T) string {
	t.Helper()
	node := testenv.NeedCommand(t, "node")
	npm := testenv.NeedCommand(t, "npm")
	_, err := os.Stat(chromiumPath)
	testenv.Need(t, chromiumPath+" (apt-get install chromium)", err)
	if !browserInstalled() {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = browserDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	return node
}

// browserInstalled reports whether node_modules is at least as new as the
// lock file.
func browserInstalled() bool {
	lock, err := os.Stat(filepath.Join(browserDir, "package-lock.json"))
	if err != nil {
		return false
	}
	mods, err := os.Stat(filepath.Join(browserDir, "node_modules", ".package-lock.json"))
	return err == nil && !mods.ModTime().Before(lock.ModTime())
}

// startDesktopCluster runs `parley up` with an interaction server (demo
// agents alice and bob, passwords their names), two chat servers that
// submit their chats to it, and a web API connected to all three.
func startDesktopCluster(t *testing.T) *cluster {
	t.Helper()
	return startDesktopClusterTLS(t, false)
}

// startDesktopClusterTLS is startDesktopCluster, with TLS on every
// application when withTLS (see cluster.withTLS).
func startDesktopClusterTLS(t *testing.T, withTLS bool) *cluster {
	t.Helper()
	return startDesktop(t, withTLS, false)
}

// startDesktop is startDesktopClusterTLS; with pair, chat-2 is the backup
// of chat-1 (a warm-standby pair) and the web API is connected to chat-1
// only.
func startDesktop(t *testing.T, withTLS, pair bool) *cluster {
	t.Helper()
	return startDesktopWith(t, withTLS, pair, "")
}

// startDesktopWith is startDesktop with further settings of the web API
// (YAML, for instance `allowed-origins: "http://..."`).
func startDesktopWith(t *testing.T, withTLS, pair bool, webSettings string) *cluster {
	t.Helper()
	if webSettings != "" {
		webSettings = ", " + webSettings
	}
	dir := t.TempDir()
	names := []string{"ixn-1", "chat-1", "chat-2", "gms-1"}
	c := newCluster(t, dir, names...)
	agent := func(id string) string {
		return fmt.Sprintf("agent:%s: {password-hash: %q, capacity-chat: 3%s}", id, ixn.HashPassword(id, "parley-test-salt-"+id, ixn.MinPasswordIterations),
			map[bool]string{true: ", supervisor: true"}[id == "sue"])
	}
	chat := "{session-restoration-mode: simple, transcript-auto-save: 1, backup-takeover-timeout: 1}"
	backup, webChats := "", "chat-1, chat-2"
	if pair {
		backup, webChats = "backup: chat-2, ", "chat-1"
	}
	yaml := fmt.Sprintf(`data-dir: %s
databases:
  main: {driver: sqlite, dsn: parley.db}
applications:
  ixn-1: {type: interaction-server, listen: "%s", database: main, options: {%s, %s, %s}}
  chat-1: {type: chat-server, listen: "%s", database: main, %sconnections: [ixn-1], options: {settings: %s}}
  chat-2: {type: chat-server, listen: "%s", database: main, connections: [ixn-1], options: {settings: %s}}
  gms-1: {type: web-api, listen: "%s", connections: [%s, ixn-1], options: {settings: {request-timeout: 4%s}}}
`, c.dataDir, c.addrs["ixn-1"], agent("alice"), agent("bob"), agent("sue"), c.addrs["chat-1"], backup, chat, c.addrs["chat-2"], chat, c.addrs["gms-1"], webChats, webSettings)
	if withTLS {
		yaml = c.withTLS(yaml)
	}
	c.launch(dir, yaml, names...)
	return c
}

// runScenario runs testdata/browser/<name>.mjs against the cluster's web
// API, killing the applications it asks for, and fails the test unless it
// succeeds.
func runScenario(t *testing.T, c *cluster, node, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	shots := t.ArtifactDir()
	cmd := exec.CommandContext(ctx, node, name+".mjs", c.url("gms-1", "http", ""), shots)
	cmd.Dir = browserDir
	if c.tls != nil {
		cmd.Env = append(os.Environ(), "PARLEY_SPKI_PIN="+c.spkiPin("gms-1"))
	}
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
	c.obey(stdout, stdin)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, stderr.String())
	}
	// Every application proved itself to every other one: the desktop
	// bridge to the interaction server and the chat servers included.
	if strings.Contains(c.out.String(), "peer refused") {
		t.Errorf("an application refused a peer:\n%s", c.out.String())
	}
	t.Logf("%s passed; screenshots in %s", name, shots)
}

// spkiPin returns the base64 SHA-256 of the SubjectPublicKeyInfo of
// application name's certificate (made by cluster.withTLS): what chromium's
// --ignore-certificate-errors-spki-list takes, so that it accepts that
// certificate from the test CA, and no other certificate it cannot verify.
func (c *cluster) spkiPin(name string) string {
	c.t.Helper()
	data, err := os.ReadFile(filepath.Join(c.dataDir, "certs", name+".pem"))
	if err != nil {
		c.t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		c.t.Fatalf("no PEM block in the certificate of %s", name)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		c.t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// obey reads the scenario's requests, one JSON object a line, until it
// ends: {"kill": app} is answered, once the application is SIGKILLed, with
// a line on in.
func (c *cluster) obey(out io.Reader, in io.WriteCloser) {
	defer in.Close()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var req struct{ Kill string }
		if json.Unmarshal(sc.Bytes(), &req) != nil || req.Kill == "" {
			c.t.Logf("scenario: %s", sc.Text())
			continue
		}
		if _, ok := c.addrs[req.Kill]; !ok || !strings.HasPrefix(req.Kill, "chat-") {
			c.t.Errorf("scenario asked to kill %q", req.Kill)
			return
		}
		c.signal(req.Kill, syscall.SIGKILL)
		fmt.Fprintln(in, "killed")
	}
}

// TestBrowserFailover is the seed's "Run a Test" in a real browser (a), with
// an internal message the customer never sees (d); the agent first goes not
// ready, then ready, checked in the supervisor panel.
func TestBrowserFailover(t *testing.T) {
	node := requireBrowser(t)
	runScenario(t, startDesktopCluster(t), node, "ha")
}

// TestBrowserFailoverTLS is TestBrowserFailover with TLS and authentication
// on every application: the pages come over https, the desktop bridge
// proves itself to the interaction server and the chat servers, and
// chromium accepts the web API's certificate by its pinned public key.
func TestBrowserFailoverTLS(t *testing.T) {
	node := requireBrowser(t)
	runScenario(t, startDesktopClusterTLS(t, true), node, "ha")
}

// TestBrowserWarmStandby is the seed's warm-standby test in a real browser:
// the Chat HA widget and the agent desktop on a primary/backup pair, the web
// API connected to the primary only; the primary is killed (kill -9), the
// backup takes over and the chat goes on in both pages.
func TestBrowserWarmStandby(t *testing.T) {
	node := requireBrowser(t)
	c := startDesktop(t, false, true)
	c.waitRoles(map[string]string{"chat-1": chatserver.RolePrimary, "chat-2": chatserver.RoleBackup})
	runScenario(t, c, node, "ha")
	c.waitRoles(map[string]string{"chat-2": chatserver.RolePrimary})
}

// TestBrowserNotReadyForChat: an agent Not Ready on chat with a reason,
// from the desktop's Chat menu, is not routed chats, and is routed them
// again when ready for chat.
func TestBrowserNotReadyForChat(t *testing.T) {
	node := requireBrowser(t)
	runScenario(t, startDesktopCluster(t), node, "notready")
}

// TestBrowserSupervisor: sue, a supervisor, monitors alice's chat with a
// customer silently, coaches alice, then barges in (issue 24).
func TestBrowserSupervisor(t *testing.T) {
	node := requireBrowser(t)
	runScenario(t, startDesktopCluster(t), node, "supervisor")
}

// TestBrowserTransferAndHold routes a chat that one agent rejected to the
// other, who transfers it back (b); she holds it in the workbin and picks it
// up again (c).
func TestBrowserTransferAndHold(t *testing.T) {
	node := requireBrowser(t)
	runScenario(t, startDesktopCluster(t), node, "transfer")
}

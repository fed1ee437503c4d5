package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/testenv"
)

// previousRelease is the commit the rolling upgrade test upgrades from: the
// last release before this one (main before issue 19's operations work).
// Move it forward at each release; PARLEY_UPGRADE_FROM overrides it.
const previousRelease = "eee8de555c6633130b8cf01142fa7c8037fdcd22"

// TestRollingUpgradeEndToEnd is the seed's "How to Upgrade Running Chat
// Solution" with chats live: chat-1, chat-2 and gms-1 run the previous
// release's binary (built here from its commit) on one store; each chat
// server in turn is disabled, stopped and started again as this version,
// next to the other still old, then the web API; every chat goes on
// through each step, an old and a new chat server sharing it, and in the
// end every acknowledged message is in its final transcript exactly once.
// The new version reads what the old one wrote: sessions, events, the
// disabled flag.
func TestRollingUpgradeEndToEnd(t *testing.T) {
	testenv.NeedLong(t, "builds the previous release and upgrades a deployment")
	git := testenv.NeedCommand(t, "git")
	old := buildRelease(t, git, cmpEnv("PARLEY_UPGRADE_FROM", previousRelease))
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			db := "sqlite"
			if backend == "postgres" {
				db = storetest.PostgresDSN(t)
			}
			runRollingUpgrade(t, old, db)
		})
	}
}

func cmpEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// buildRelease builds cmd/parley as of commit, from the repository this
// test runs in (git archive, so the repository's worktrees are untouched),
// and returns the binary's path.
func buildRelease(t *testing.T, git, commit string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	// From the top: in a sub-directory git archive takes that sub-tree only.
	archive := exec.Command("sh", "-c", `cd "$("$0" rev-parse --show-toplevel)" && "$0" archive --format=tar "$1" | tar -x -C "$2"`, git, commit, src)
	if out, err := archive.CombinedOutput(); err != nil {
		t.Fatalf("git archive %s: %v\n%s", commit, err, out)
	}
	bin := filepath.Join(dir, "parley-"+commit[:min(12, len(commit))])
	build := exec.Command("go", "build", "-o", bin, "./cmd/parley")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build of %s: %v\n%s", commit, err, out)
	}
	return bin
}

// upgrade is one rolling upgrade: the deployment's file, listeners and the
// process of each application.
type upgrade struct {
	*cluster
	file  string
	held  *heldListeners
	procs map[string]*exec.Cmd
}

func runRollingUpgrade(t *testing.T, old, db string) {
	const chats = 8
	start := time.Now()
	u := startOld(t, old, db)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	all := make([]*haChat, chats)
	parallel(t, chats, func(i int) (err error) {
		if all[i], err = u.openChat(ctx, i); err == nil {
			err = u.talk(ctx, all[i], i, 0, 1)
		}
		return err
	})
	round := 1
	for _, pair := range [][2]string{{"chat-1", "chat-2"}, {"chat-2", "chat-1"}} {
		victim, other := pair[0], pair[1]
		moved := 0
		for _, ch := range all {
			if ch.alias == victim {
				moved++
			}
		}
		if moved == 0 && victim == "chat-2" { // after chat-1's upgrade every chat lives on chat-2
			t.Fatal("no chat on chat-2 to carry over")
		}
		u.admin(victim, "/admin/disable") // step 1: no new chats
		u.replace(victim)                 // step 3: stop, start the new version
		parallel(t, chats, func(i int) error { return u.carryOn(ctx, all[i], i, round, victim, other) })
		u.admin(victim, "/admin/enable") // the new version read the old one's flag: it was disabled
		t.Logf("%s upgraded, its %d chats carried on, at %s", victim, moved, time.Since(start).Round(time.Millisecond))
		round++
	}
	u.replace("gms-1")
	parallel(t, chats, func(i int) error { return u.carryOn(ctx, all[i], i, round, "", "chat-1") })
	t.Logf("gms-1 upgraded, chats carried on, at %s", time.Since(start).Round(time.Millisecond))
	parallel(t, chats, func(i int) error {
		if err := u.catchUp(ctx, all[i]); err != nil {
			return err
		}
		return u.end(ctx, all[i])
	})
	settleTranscripts(t, u.cluster, db, all)
	// Every chat ended on a new chat server, which logged it as the seed's
	// administrator reads it: event 59245, the last one at current
	// sessions=0.
	logs := u.procs["chat-1"].Stdout.(*syncBuffer).String() + u.procs["chat-2"].Stdout.(*syncBuffer).String()
	for i, ch := range all {
		if !strings.Contains(logs, `msg="deleting session with sid=`+ch.id+` and intx=`+ch.id+` (current sessions=`) {
			t.Errorf("chat %d: no event 59245 for %s", i, ch.id)
		}
	}
	if !strings.Contains(logs, `(current sessions=0)" app=chat-`) {
		t.Error("no event 59245 at current sessions=0")
	}
}

// startOld runs chat-1, chat-2 and gms-1 with the old binary on db.
func startOld(t *testing.T, old, db string) *upgrade {
	t.Helper()
	dir := t.TempDir()
	names := []string{"chat-1", "chat-2", "gms-1"}
	held, addrs := holdListeners(t, names...)
	c := &cluster{t: t, dataDir: filepath.Join(dir, "data"), out: &syncBuffer{}, addrs: addrs}
	yaml := deploymentHead(c.dataDir, db) + fmt.Sprintf(`  chat-1: {type: chat-server, listen: "%s", database: main}
  chat-2: {type: chat-server, listen: "%s", database: main}
  gms-1: {type: web-api, listen: "%s", connections: [chat-1, chat-2], options: {settings: {request-timeout: 8, status-poll-interval: 1}}}
`, addrs["chat-1"], addrs["chat-2"], addrs["gms-1"])
	u := &upgrade{cluster: c, file: filepath.Join(dir, "parley.yaml"), held: held, procs: map[string]*exec.Cmd{}}
	if err := os.WriteFile(u.file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		u.procs[name] = runBin(t, old, held, u.file, name)
		waitHealth(t, addrs[name], http.StatusOK, "ok")
	}
	return u
}

// replace stops application name (SIGTERM) and runs it again, on the same
// address, with this version's binary.
func (u *upgrade) replace(name string) {
	t := u.t
	t.Helper()
	p := u.procs[name]
	if err := p.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { _, err := p.Process.Wait(); waited <- err }()
	select {
	case <-waited:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop within 30 s of SIGTERM", name)
	}
	ln, err := net.Listen("tcp", u.addrs[name])
	if err != nil {
		t.Fatalf("listen again on %s's address: %v", name, err)
	}
	u.held.lns[name] = ln
	u.procs[name] = runBin(t, buildParley(t), u.held, u.file, name)
	waitHealth(t, u.addrs[name], http.StatusOK, "ok")
}

// admin posts an admin request to chat server name.
func (u *upgrade) admin(name, path string) {
	u.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u.url(name, "http", path), nil)
	if err != nil {
		u.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+u.web().key.AdminToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		u.t.Fatalf("POST %s on %s: HTTP %d", path, name, resp.StatusCode)
	}
}

// carryOn continues ch after a step of the upgrade replaced victim (none
// for the web API): the customer sends, as a client does, until a message
// is acknowledged (one sent as the chat moves may fail; it is then in the
// transcript at most once), the agent rejoins where the chat now lives if
// it was on the victim, and replies, acknowledged at once.
func (u *upgrade) carryOn(ctx context.Context, ch *haChat, i, round int, victim, other string) error {
	for k := 0; ; k++ {
		err := u.say(ch, fmt.Sprintf("customer %d/%d.%d", i, round, k))
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("round %d: the chat is not served again: %v", round, err)
		case <-time.After(100 * time.Millisecond): // a client's retry pace
		}
	}
	if ch.agentAt == victim {
		owner, err := u.location(ch.id, other)
		if err != nil || owner == "" {
			return fmt.Errorf("location after %s's upgrade: %q %v", victim, owner, err)
		}
		if err := u.join(ctx, ch, u.addrs[owner], map[string]any{"sessionId": ch.id, "userId": ch.agentID}); err != nil {
			return err
		}
	}
	if err := ch.reply(ctx, fmt.Sprintf("agent %d/%d", i, round)); err != nil {
		return err
	}
	return u.poll(ch)
}

// settleTranscripts waits for every chat's final transcript, then checks
// them against what was sent.
func settleTranscripts(t *testing.T, c *cluster, db string, all []*haChat) {
	t.Helper()
	contacts := openContacts(t, db, c.dataDir)
	eventually(t, "every final transcript filed", func() bool {
		for _, ch := range all {
			if _, err := contacts.Interaction(context.Background(), ch.id); err != nil {
				return false
			}
		}
		return true
	})
	checkTranscripts(t, db, c.dataDir, all)
	for i, ch := range all {
		if c, a := ch.acked("customer", time.Time{}, ""), ch.acked("agent", time.Time{}, ""); c != 4 || a != 4 {
			t.Errorf("chat %d: %d customer and %d agent messages acknowledged, want 4 each (4 rounds)", i, c, a)
		}
	}
}

package chatserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/wire"
)

// cutPairs is a pair store a test cuts off, as a partition cuts a chat
// server off its database.
type cutPairs struct {
	chat.PairStore
	cut atomic.Bool
}

var errCut = errors.New("test: the database is unreachable")

func (c *cutPairs) Primary(ctx context.Context, pair string) (string, int64, error) {
	if c.cut.Load() {
		return "", 0, errCut
	}
	return c.PairStore.Primary(ctx, pair)
}

func (c *cutPairs) TakePrimary(ctx context.Context, pair, member string, epoch int64) (int64, error) {
	if c.cut.Load() {
		return 0, errCut
	}
	return c.PairStore.TakePrimary(ctx, pair, member, epoch)
}

// pairHarness is chat-1 and its backup chat-2 on one SQLite database; each
// member's pair store can be cut.
type pairHarness struct {
	t      *testing.T
	db     *sqlite.DB
	lns    map[string]net.Listener
	stores map[string]*cutPairs
	hs     map[string]*harness
}

func startPair(t *testing.T) *pairHarness {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p := &pairHarness{t: t, db: db, lns: map[string]net.Listener{}, stores: map[string]*cutPairs{}, hs: map[string]*harness{}}
	for _, name := range []string{"chat-1", "chat-2"} {
		p.lns[name] = listen(t)
		p.stores[name] = &cutPairs{PairStore: db.Pairs()}
	}
	p.start("chat-1", p.lns["chat-1"])
	p.waitRole("chat-1", chatserver.RolePrimary)
	p.start("chat-2", p.lns["chat-2"])
	p.waitRole("chat-2", chatserver.RoleBackup)
	return p
}

// start runs member name on ln.
func (p *pairHarness) start(name string, ln net.Listener) *harness {
	p.t.Helper()
	partner := map[string]string{"chat-1": "chat-2", "chat-2": "chat-1"}[name]
	opts := defaultOptions(p.t)
	opts.Settings.BackupTakeoverTimeout = 300 * time.Millisecond
	cfg := chatserver.Config{Name: name, Options: opts, Transcripts: p.db.Transcripts(), Contacts: p.db.Contacts(),
		Pair: &chatserver.Pair{Name: "chat-1", Store: p.stores[name],
			Partner: service.Endpoint{Name: partner, Addr: p.lns[partner].Addr().String()}}}
	p.hs[name] = serveOn(p.t, cfg, p.db, ln)
	return p.hs[name]
}

func (p *pairHarness) waitRole(name, role string) {
	p.t.Helper()
	eventually(p.t, name+" is the "+role, func() bool {
		// Asked over HTTP: the server answers once its start decided its role.
		resp, err := http.Get("http://" + p.hs[name].addr + "/status")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var st chatserver.Status
		return json.NewDecoder(resp.Body).Decode(&st) == nil && st.Role == role && st.Accepting == (role == chatserver.RolePrimary)
	})
}

// TestBackupServesNothing: the backup refuses every client request with
// 112, takes no chat and refuses a switchover (it is asked of the primary).
func TestBackupServesNothing(t *testing.T) {
	p := startPair(t)
	b := p.hs["chat-2"].dial(chatserver.FlexPath)
	if _, err := b.do(wire.RequestLogin, map[string]any{"firstName": "Ann"}); wireCode(err) != wire.CodeBackup {
		t.Fatalf("login on the backup: %v, want 112", err)
	}
	c := p.hs["chat-1"].login(p.hs["chat-1"].dial(chatserver.FlexPath))
	if _, err := b.do(wire.RequestRestore, c.ref(map[string]any{"from": "chat-1"})); wireCode(err) != wire.CodeBackup {
		t.Fatalf("restore on the backup: %v, want 112", err)
	}
	if code := post(t, p.hs["chat-2"].addr, "/admin/switchover"); code != http.StatusConflict {
		t.Fatalf("switchover on the backup: HTTP %d, want 409", code)
	}
}

// TestSwitchoverInProcess: the primary hands its role over; its chat is
// restored on the new primary at the client's next request, and the old
// primary refuses it with 112.
func TestSwitchoverInProcess(t *testing.T) {
	p := startPair(t)
	c := p.hs["chat-1"].login(p.hs["chat-1"].dial(chatserver.FlexPath))
	c.must(wire.RequestMessage, c.ref(map[string]any{"text": "before"}))
	if code := post(t, p.hs["chat-1"].addr, "/admin/switchover"); code != http.StatusOK {
		t.Fatalf("switchover: HTTP %d", code)
	}
	p.waitRole("chat-1", chatserver.RoleBackup)
	p.waitRole("chat-2", chatserver.RolePrimary)
	again := p.hs["chat-1"].dial(chatserver.FlexPath)
	if _, err := again.do(wire.RequestMessage, c.ref(map[string]any{"text": "lost?"})); wireCode(err) != wire.CodeBackup {
		t.Fatalf("message on the old primary: %v, want 112", err)
	}
	st := p.hs["chat-2"].dial(chatserver.FlexPath).must(wire.RequestRestore, c.ref(map[string]any{"from": "chat-1", "transcriptPosition": 1}))
	if st.Alias != "chat-2" || !hasText(st, "before") || hasText(st, "lost?") {
		t.Fatalf("restore on the new primary = %+v", st)
	}
}

// TestBackupDoesNotPromoteOnPartition: a backup that reaches neither its
// primary nor the database stays the backup; once the database answers
// again it takes over, and the old primary, restarted, is the backup.
func TestBackupDoesNotPromoteOnPartition(t *testing.T) {
	p := startPair(t)
	p.stores["chat-2"].cut.Store(true)
	p.hs["chat-1"].kill()
	// Ten times backup-takeover-timeout: the backup keeps to its role.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if st := p.hs["chat-2"].srv.Status(); st.Role != chatserver.RoleBackup || st.Accepting {
			t.Fatalf("the partitioned backup promoted itself: %+v", st)
		}
		time.Sleep(50 * time.Millisecond) // sampling a state that must not change
	}
	p.stores["chat-2"].cut.Store(false)
	p.waitRole("chat-2", chatserver.RolePrimary)
	if member, _, err := p.db.Pairs().Primary(context.Background(), "chat-1"); err != nil || member != "chat-2" {
		t.Fatalf("the pair's record names %q (%v), want chat-2", member, err)
	}
	p.start("chat-1", listen(t))
	p.waitRole("chat-1", chatserver.RoleBackup)
}

func hasText(st status, text string) bool {
	for _, m := range st.Messages {
		if m.Text == text {
			return true
		}
	}
	return false
}

// post sends an empty POST to path at addr and returns the HTTP status.
func post(t *testing.T, addr, path string) int {
	t.Helper()
	resp, err := http.Post("http://"+addr+path, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRestoreDoesNotDeferToBackup: a chat server outside the pair that
// restores a chat whose owner stood down (a switchover) restores it itself:
// the old owner is alive with the same incarnation, but a backup holds no
// chat.
func TestRestoreDoesNotDeferToBackup(t *testing.T) {
	p := startPair(t)
	c := p.hs["chat-1"].login(p.hs["chat-1"].dial(chatserver.FlexPath))
	if code := post(t, p.hs["chat-1"].addr, "/admin/switchover"); code != http.StatusOK {
		t.Fatalf("switchover: HTTP %d", code)
	}
	p.waitRole("chat-1", chatserver.RoleBackup)
	peers := map[string]service.Endpoint{"chat-1": {Name: "chat-1", Addr: p.hs["chat-1"].addr}}
	other := serve(t, chatserver.Config{Name: "chat-3", Options: defaultOptions(t), Transcripts: p.db.Transcripts(),
		Contacts: p.db.Contacts(), Peers: peers, SweepInterval: -1}, p.db)
	// from names another server than the owner: the restore would defer
	// to a live owner that holds the chat.
	st := other.dial(chatserver.FlexPath).must(wire.RequestRestore, c.ref(map[string]any{"from": "chat-9"}))
	if st.Alias != "chat-3" {
		t.Fatalf("restore answered alias %q, want chat-3 (restored there, not deferred to the backup)", st.Alias)
	}
}

package chatserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// cluster starts n chat servers (chat-1, chat-2, ...) on one SQLite database.
func cluster(t *testing.T, n int, purge bool) []*harness {
	t.Helper()
	return clusterWith(t, n, func(o *config.ChatServerOptions) { o.Settings.SessionRestoreDoPurge = purge })
}

// clusterWith starts n chat servers on one SQLite database, their options
// the defaults changed by set.
func clusterWith(t *testing.T, n int, set func(*config.ChatServerOptions)) []*harness {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	lns := make([]net.Listener, n)
	peers := map[string]service.Endpoint{}
	for i := range lns {
		lns[i] = listen(t)
		peers[name(i)] = service.Endpoint{Name: name(i), Addr: lns[i].Addr().String()}
	}
	hs := make([]*harness, n)
	for i := range hs {
		opts := defaultOptions(t)
		set(&opts)
		cfg := chatserver.Config{Name: name(i), Options: opts, Transcripts: db.Transcripts(), Contacts: db.Contacts(), Peers: peers}
		hs[i] = serveOn(t, cfg, db, lns[i])
	}
	return hs
}

func name(i int) string { return fmt.Sprintf("chat-%d", i+1) }

// chatOn starts a chat on h with an agent, a message each way, and returns
// the client, the agent peer and the agent's party id.
func chatOn(t *testing.T, h *harness) (client, *peer, status) {
	t.Helper()
	c := h.login(h.dial(chatserver.FlexPath))
	agent := h.dial(chatserver.BasicPath)
	joined := h.joinAgent(agent, c.sessionID, nil)
	c.must(wire.RequestMessage, c.ref(map[string]any{"text": "before 1"}))
	agent.must(wire.RequestMessage, map[string]any{"sessionId": c.sessionID, "userId": joined.UserID, "text": "before 2"})
	return c, agent, joined
}

func restoreOn(h *harness, c client, from string, position int) (status, error) {
	p := h.dial(chatserver.FlexPath)
	return p.do(wire.RequestRestore, c.ref(map[string]any{"from": from, "transcriptPosition": position}))
}

func TestRestoreAfterOwnerDies(t *testing.T) {
	hs := cluster(t, 2, false)
	a, b := hs[0], hs[1]
	c, _, joined := chatOn(t, a)
	agentID := joined.UserID
	seen := c.must(wire.RequestRefresh, c.ref(map[string]any{"transcriptPosition": 1})).NextPosition
	a.crash()

	st, err := restoreOn(b, c, "chat-1", seen)
	if err != nil {
		t.Fatal(err)
	}
	if st.Alias != "chat-2" {
		t.Fatalf("alias after restore = %q, want chat-2", st.Alias)
	}
	var got []string
	for _, m := range st.Messages {
		got = append(got, string(m.Type)+":"+m.EventAttributes.System["quit-reason-code"])
	}
	want := []string{"ParticipantLeft:8", "ParticipantJoined:", "ParticipantLeft:8", "ParticipantJoined:"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("client resumed with %v, want %v", got, want)
	}

	// The agent finds the new location and rejoins as the same party.
	if loc := location(t, b.addr, c.sessionID); loc.Owner != "chat-2" || loc.Epoch != 2 {
		t.Errorf("location = %+v", loc)
	}
	agent := b.dial(chatserver.BasicPath)
	agent.must(wire.RequestJoin, map[string]any{"sessionId": c.sessionID, "userId": agentID, "secureKey": joined.SecureKey, "transcriptPosition": seen})
	moved := client{peer: b.dial(chatserver.FlexPath), sessionID: c.sessionID, userID: c.userID, key: c.key}
	moved.must(wire.RequestSubscribe, moved.ref(nil))
	agent.must(wire.RequestMessage, map[string]any{"sessionId": c.sessionID, "userId": agentID, "text": "after 1"})
	moved.waitPush("agent message after restore", func(m transcript.APIMessage, _ status) bool { return m.Text == "after 1" })
	moved.must(wire.RequestMessage, moved.ref(map[string]any{"text": "after 2"}))
	agent.waitPush("client message after restore", func(m transcript.APIMessage, _ status) bool { return m.Text == "after 2" })
	agent.must(wire.RequestReleaseParty, map[string]any{"sessionId": c.sessionID, "userId": agentID, "afterAction": "ForceClose"})

	in := waitInteraction(t, b, c.sessionID)
	for _, text := range []string{"before 1", "before 2", "after 1", "after 2"} {
		if n := strings.Count(in.TranscriptXML, "<msgText>"+text+"</msgText>"); n != 1 {
			t.Errorf("%q is %d times in the final transcript", text, n)
		}
	}
	if k := b.srv.KPI(); k["session_restored"] != 1 || k["sessions_current"] != 0 {
		t.Errorf("kpi of the new owner = %v", k)
	}
}

func location(t *testing.T, addr, id string) chatserver.Location {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/sessions/" + id + "/location")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var loc chatserver.Location
	json.NewDecoder(resp.Body).Decode(&loc)
	return loc
}

func TestRestoreRefusals(t *testing.T) {
	hs := cluster(t, 2, false)
	a, b := hs[0], hs[1]
	c, _, _ := chatOn(t, a)
	ended, agent, joined := chatOn(t, a)
	agentID := joined.UserID
	agent.must(wire.RequestReleaseParty, map[string]any{"sessionId": ended.sessionID, "userId": agentID, "afterAction": "ForceClose"})
	waitInteraction(t, a, ended.sessionID)
	eventually(t, "the ended chat's intermediate transcript deleted", func() bool {
		_, err := a.ts.Load(context.Background(), ended.sessionID)
		return errors.Is(err, transcript.ErrNotFound)
	})
	a.crash()
	bad := c
	bad.key = "not-the-key"
	tests := []struct {
		name string
		c    client
		want wire.Code
	}{
		{"wrong key", bad, wire.CodeBadSecureKey},
		{"unknown user", client{sessionID: c.sessionID, userID: "NOPE", key: c.key}, wire.CodeBadSecureKey},
		{"unknown session", client{sessionID: "NOPE", userID: c.userID, key: c.key}, wire.CodeNoSuchSession},
		{"ended chat", ended, wire.CodeSessionClosed},
		{"ended chat, unknown user", client{sessionID: ended.sessionID, userID: "NOPE", key: ended.key}, wire.CodeNoSuchSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := restoreOn(b, tt.c, "chat-1", 1)
			if wireCode(err) != tt.want || len(st.Messages) != 0 {
				t.Errorf("err = %v, messages = %d; want code %d and nothing", err, len(st.Messages), tt.want)
			}
		})
	}
	if snap, err := b.ts.Load(context.Background(), c.sessionID); err != nil || snap.Session.Epoch != 1 || snap.Session.Owner != "chat-1" {
		t.Errorf("a refused restore changed the session: %+v, %v", snap.Session, err)
	}
}

func TestRestoreRaceHasOneWinner(t *testing.T) {
	hs := cluster(t, 3, false)
	c, _, _ := chatOn(t, hs[0])
	hs[0].crash()
	var wg sync.WaitGroup
	aliases := make([]string, 2)
	for i, h := range hs[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := restoreOn(h, c, "chat-1", 1)
			if err != nil {
				t.Errorf("restore on %s: %v", h.name, err)
			}
			aliases[i] = st.Alias
		}()
	}
	wg.Wait()
	if aliases[0] != aliases[1] || (aliases[0] != "chat-2" && aliases[0] != "chat-3") {
		t.Fatalf("restores answered aliases %v, want one winner named by both", aliases)
	}
	if k2, k3 := hs[1].srv.KPI()["session_restored"], hs[2].srv.KPI()["session_restored"]; k2+k3 != 1 {
		t.Errorf("session_restored = %d + %d, want 1 in all", k2, k3)
	}
}

func TestSplitBrainOldOwnerFenced(t *testing.T) {
	hs := cluster(t, 2, false)
	a, b := hs[0], hs[1]
	c, oldAgent, joined := chatOn(t, a)
	agentID := joined.UserID
	// a is alive, but the web API could not reach it: b takes over.
	if st, err := restoreOn(b, c, "chat-1", 1); err != nil || st.Alias != "chat-2" {
		t.Fatalf("restore = %+v, %v", st.Alias, err)
	}
	_, err := oldAgent.do(wire.RequestMessage, map[string]any{"sessionId": c.sessionID, "userId": agentID, "text": "split brain"})
	if wireCode(err) != wire.CodeStaleOwner {
		t.Fatalf("the old owner accepted a message: err = %v", err)
	}
	if _, err := c.do(wire.RequestMessage, c.ref(map[string]any{"text": "to the old owner"})); wireCode(err) != wire.CodeStaleOwner {
		t.Errorf("the fenced-off old owner answered %v, want code %d", err, wire.CodeStaleOwner)
	}
	snap, err := b.ts.Load(context.Background(), c.sessionID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range snap.Events {
		if e.Text == "split brain" || e.Text == "to the old owner" {
			t.Errorf("the old owner stored %q after the takeover", e.Text)
		}
	}
}

// purge asks h to drop its copy of a session and returns the HTTP status
// and the wire error code of the answer (0 when none).
func purge(t *testing.T, h *harness, id string) (int, wire.Code) {
	t.Helper()
	resp, err := http.Post("http://"+h.addr+"/admin/purge/"+id, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var we wire.Error
	json.NewDecoder(resp.Body).Decode(&we)
	return resp.StatusCode, we.Code
}

func TestPurgeRefusedWhileOwner(t *testing.T) {
	hs := cluster(t, 1, false)
	c, _, _ := chatOn(t, hs[0])
	if code, wc := purge(t, hs[0], c.sessionID); code != http.StatusConflict || wc != wire.CodeNotAllowed {
		t.Errorf("purge of a session this server owns = %d, code %d; want 409, code %d", code, wc, wire.CodeNotAllowed)
	}
	c.must(wire.RequestMessage, c.ref(map[string]any{"text": "still here"}))
	if k := hs[0].srv.KPI(); k["session_fenced"] != 0 || k["sessions_current"] != 1 {
		t.Errorf("kpi = %v", k)
	}
	if code, _ := purge(t, hs[0], "NOPE"); code != http.StatusNoContent {
		t.Errorf("purge of a session not held here = %d, want 204", code)
	}
}

func TestPurgeAfterTakeover(t *testing.T) {
	hs := cluster(t, 2, false)
	a, b := hs[0], hs[1]
	c, _, _ := chatOn(t, a)
	if _, err := restoreOn(b, c, "chat-1", 1); err != nil {
		t.Fatal(err)
	}
	if code, _ := purge(t, a, c.sessionID); code != http.StatusNoContent {
		t.Fatalf("purge after the takeover = %d, want 204", code)
	}
	if _, err := c.do(wire.RequestRefresh, c.ref(nil)); wireCode(err) != wire.CodeStaleOwner {
		t.Errorf("the purged copy answered %v, want code %d", err, wire.CodeStaleOwner)
	}
	if k := a.srv.KPI(); k["session_fenced"] != 1 || k["sessions_current"] != 0 || k["transcript_save_failed"] != 0 {
		t.Errorf("kpi of the old owner = %v", k)
	}
}

func TestPurgeDropsOldCopy(t *testing.T) {
	hs := cluster(t, 2, true)
	a, b := hs[0], hs[1]
	c, _, _ := chatOn(t, a)
	if _, err := restoreOn(b, c, "chat-1", 1); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the old copy purged", func() bool {
		_, err := c.do(wire.RequestRefresh, c.ref(nil))
		return wireCode(err) == wire.CodeStaleOwner
	})
}

// lateWriter is a store in which the old owner appends one more message
// between a restorer's load and its claim.
type lateWriter struct {
	transcript.Store
	once sync.Once
}

func (l *lateWriter) Claim(ctx context.Context, id, owner, incarnation string, epoch int64) (int64, error) {
	l.once.Do(func() {
		snap, err := l.Store.Load(ctx, id)
		if err != nil {
			return
		}
		last := snap.Events[len(snap.Events)-1]
		late := transcript.Event{Index: last.Index + 1, Type: transcript.Message, PartyID: last.PartyID,
			Visibility: transcript.VisAll, Text: "late write", Time: last.Time}
		l.Store.Append(ctx, id, epoch, []transcript.Event{late})
	})
	return l.Store.Claim(ctx, id, owner, incarnation, epoch)
}

func TestRestoreSeesWritesBeforeItsClaim(t *testing.T) {
	hs := cluster(t, 1, false)
	c, _, _ := chatOn(t, hs[0])
	hs[0].crash()
	b := serve(t, chatserver.Config{Name: "chat-2", Options: defaultOptions(t),
		Transcripts: &lateWriter{Store: hs[0].db.Transcripts()}, Contacts: hs[0].db.Contacts()}, hs[0].db)
	st, err := restoreOn(b, c, "chat-1", 1)
	if err != nil {
		t.Fatalf("restore after a late write: %v", err)
	}
	var texts []string
	for _, m := range st.Messages {
		texts = append(texts, m.Text)
	}
	if !strings.Contains(strings.Join(texts, "|"), "late write") {
		t.Errorf("restored transcript %q lacks the write made before the claim", texts)
	}
	c.peer = b.dial(chatserver.FlexPath)
	c.must(wire.RequestMessage, c.ref(map[string]any{"text": "after"}))
}

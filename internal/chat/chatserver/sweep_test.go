package chatserver_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// countingContacts is a contact store that counts the final saves of each
// interaction, across every chat server that shares it.
type countingContacts struct {
	contact.Store
	mu    sync.Mutex
	saves map[string]int
}

func (c *countingContacts) SaveInteraction(ctx context.Context, ct contact.Contact, in contact.Interaction) (contact.Interaction, error) {
	out, err := c.Store.SaveInteraction(ctx, ct, in)
	if err == nil {
		c.mu.Lock()
		c.saves[in.ID]++
		c.mu.Unlock()
	}
	return out, err
}

func (c *countingContacts) count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.saves[id]
}

// sweepers starts n chat servers on one SQLite database that sweep for
// orphans every 50 ms, with a flex-disconnect-timeout of 1 s.
func sweepers(t *testing.T, n int) ([]*harness, *countingContacts) {
	t.Helper()
	return tunedSweepers(t, n, nil)
}

// tunedSweepers is sweepers with tune, when not nil, changing the config of
// each server i before it starts.
func tunedSweepers(t *testing.T, n int, tune func(i int, cfg *chatserver.Config)) ([]*harness, *countingContacts) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	contacts := &countingContacts{Store: db.Contacts(), saves: map[string]int{}}
	lns := make([]net.Listener, n)
	peers := map[string]service.Endpoint{}
	for i := range lns {
		lns[i] = listen(t)
		peers[name(i)] = service.Endpoint{Name: name(i), Addr: lns[i].Addr().String()}
	}
	hs := make([]*harness, n)
	for i := range hs {
		opts := defaultOptions(t)
		opts.Settings.FlexDisconnectTimeout = time.Second
		cfg := chatserver.Config{Name: name(i), Options: opts, Transcripts: db.Transcripts(), Contacts: contacts,
			Peers: peers, SweepInterval: 50 * time.Millisecond}
		if tune != nil {
			tune(i, &cfg)
		}
		hs[i] = serveOn(t, cfg, db, lns[i])
	}
	return hs, contacts
}

func kpiSum(hs []*harness, key string) (n int64) {
	for _, h := range hs {
		n += h.srv.KPI()[key]
	}
	return n
}

// TestSweeperRestoresOrphan is issue 21's orphan: the chat server of a chat
// dies while its customer is away, and nobody asks for the chat again. A
// surviving chat server must restore it, once (two sweep at once), so that
// flex-disconnect-timeout closes it: its final transcript is saved exactly
// once and its intermediate transcript deleted.
func TestSweeperRestoresOrphan(t *testing.T) {
	hs, contacts := sweepers(t, 3)
	a, rest := hs[0], hs[1:]
	c, _, _ := chatOn(t, a)
	a.crash()
	eventually(t, "the orphan restored by a survivor", func() bool { return kpiSum(rest, "orphan_restored") == 1 })
	eventually(t, "the restored orphan closed by flex-disconnect-timeout", func() bool {
		_, err := a.ts.Header(context.Background(), c.sessionID)
		return errors.Is(err, transcript.ErrNotFound)
	})
	if n := contacts.count(c.sessionID); n != 1 {
		t.Errorf("final transcript saved %d times, want once", n)
	}
	if in := waitInteraction(t, a, c.sessionID); len(in.Parties) < 2 {
		t.Errorf("final transcript parties %+v", in.Parties)
	}
	time.Sleep(200 * time.Millisecond) // a few more sweeps change nothing
	if r, f := kpiSum(rest, "orphan_restored"), kpiSum(rest, "orphan_finalised"); r != 1 || f != 0 {
		t.Errorf("orphan_restored %d, orphan_finalised %d, want 1 and 0", r, f)
	}
	if n := kpiSum(rest, "session_closed"); n != 1 {
		t.Errorf("session_closed %d on the survivors, want 1", n)
	}
}

// TestSweeperFinalisesEndedOrphanOnce: a chat that ended (everybody left)
// but whose owner died before it filed the final transcript and deleted the
// intermediate one is finalised by exactly one of two sweepers; a chat whose
// final transcript was filed before the owner died is only deleted.
func TestSweeperFinalisesEndedOrphanOnce(t *testing.T) {
	hs, contacts := sweepers(t, 3)
	a, rest := hs[0], hs[1:]
	a.crash()
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Millisecond)
	ended := func(id string) {
		t.Helper()
		if err := a.ts.Create(ctx, transcript.Session{ID: id, Owner: "chat-1", Epoch: 1, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
		party := &transcript.Party{ID: "u1", ParticipantID: 1, Type: transcript.Client, Nickname: "Ann", Protocol: "FLEX"}
		evs := []transcript.Event{
			{Index: 1, Type: transcript.ParticipantJoined, Time: at, PartyID: "u1", Visibility: transcript.VisAll, Party: party},
			{Index: 2, Type: transcript.Message, Time: at, PartyID: "u1", Visibility: transcript.VisAll, Text: "bye"},
			{Index: 3, Type: transcript.ParticipantLeft, Time: at, PartyID: "u1", Visibility: transcript.VisAll, AskerID: "u1"},
		}
		if err := a.ts.Append(ctx, id, 1, evs); err != nil {
			t.Fatal(err)
		}
	}
	ended("ended-1")
	ended("filed-1")
	if _, err := contacts.Store.SaveInteraction(ctx, contact.Contact{}, contact.Interaction{ID: "filed-1", MediaType: "chat"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ended-1", "filed-1"} {
		eventually(t, id+" finalised", func() bool {
			_, err := a.ts.Header(ctx, id)
			return errors.Is(err, transcript.ErrNotFound)
		})
	}
	time.Sleep(200 * time.Millisecond)
	if n := contacts.count("ended-1"); n != 1 {
		t.Errorf("ended-1 final transcript saved %d times, want once", n)
	}
	if n := contacts.count("filed-1"); n != 0 {
		t.Errorf("filed-1 final transcript saved again %d times", n)
	}
	if in := waitInteraction(t, a, "ended-1"); in.TranscriptXML == "" {
		t.Error("ended-1 has no transcript")
	}
	if r, f := kpiSum(rest, "orphan_restored"), kpiSum(rest, "orphan_finalised"); r != 0 || f != 2 {
		t.Errorf("orphan_restored %d, orphan_finalised %d, want 0 and 2", r, f)
	}
}

// TestSweeperLeavesLiveSessions: sessions their owners hold are never
// swept, however many sweeps pass.
func TestSweeperLeavesLiveSessions(t *testing.T) {
	hs, _ := sweepers(t, 2)
	c, _, _ := chatOn(t, hs[0])
	time.Sleep(500 * time.Millisecond)
	if n := kpiSum(hs, "orphan_restored") + kpiSum(hs, "orphan_finalised") + kpiSum(hs, "session_fenced"); n != 0 {
		t.Errorf("a live session was swept: %d", n)
	}
	if h, err := hs[0].ts.Header(context.Background(), c.sessionID); err != nil || h.Owner != "chat-1" || h.Epoch != 1 {
		t.Errorf("header %+v %v", h, err)
	}
}

// TestSweeperExpiresOrphan: with orphan-timeout, an orphan whose last event
// is older than it is finalised as it stands, parties and all, by exactly
// one of two sweepers, rather than restored: its final transcript filed
// once, its intermediate transcript deleted. The survivors' clocks run an
// hour ahead, so that the orphan is old at its first sweep.
func TestSweeperExpiresOrphan(t *testing.T) {
	hs, contacts := tunedSweepers(t, 3, func(i int, cfg *chatserver.Config) {
		cfg.Options.Settings.OrphanTimeout = time.Minute
		cfg.Options.Settings.FlexDisconnectTimeout = time.Hour // a restored orphan would outlive the test
		if i > 0 {
			cfg.Now = func() time.Time { return time.Now().Add(time.Hour) }
		}
	})
	a, rest := hs[0], hs[1:]
	c, _, _ := chatOn(t, a)
	a.crash()
	eventually(t, "the expired orphan finalised", func() bool {
		_, err := a.ts.Header(context.Background(), c.sessionID)
		return errors.Is(err, transcript.ErrNotFound)
	})
	time.Sleep(200 * time.Millisecond) // a few more sweeps change nothing
	if n := contacts.count(c.sessionID); n != 1 {
		t.Errorf("final transcript saved %d times, want once", n)
	}
	if in := waitInteraction(t, a, c.sessionID); len(in.Parties) < 2 || in.TranscriptXML == "" {
		t.Errorf("final transcript %+v", in)
	}
	if r, f := kpiSum(rest, "orphan_restored"), kpiSum(rest, "orphan_finalised"); r != 0 || f != 1 {
		t.Errorf("orphan_restored %d, orphan_finalised %d, want 0 and 1", r, f)
	}
}

// TestSweeperStopsExpiredOrphansInteraction: the interaction of an expired
// orphan is stopped by the sweeper that finalises it, so that the agent
// holding it is released (issue 19, item 4).
func TestSweeperStopsExpiredOrphansInteraction(t *testing.T) {
	x := startIxn(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "ixn.db"))
	alice := x.agent()
	hs, contacts := tunedSweepers(t, 2, func(i int, cfg *chatserver.Config) {
		cfg.IxnServers = endpoints([]string{x.addr})
		cfg.Options.Settings.OrphanTimeout = time.Minute
		if i > 0 {
			cfg.Now = func() time.Time { return time.Now().Add(time.Hour) }
		}
	})
	a, b := hs[0], hs[1]
	c := a.login(a.dial(chatserver.FlexPath))
	alice.wait(wire.EventInvite, c.sessionID, at(a))
	alice.ok(wire.RequestAccept, map[string]string{"interactionId": c.sessionID})
	a.crash()
	alice.wait(wire.EventProcessingStopped, c.sessionID, nil)
	if n := contacts.count(c.sessionID); n != 1 {
		t.Errorf("final transcript saved %d times, want once", n)
	}
	// The interaction is stopped before the intermediate transcript is
	// deleted and the orphan counted.
	eventually(t, "the orphan counted once", func() bool { return b.srv.KPI()["orphan_finalised"] == 1 })
}

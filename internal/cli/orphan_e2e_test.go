package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/store/storetest"
)

// TestOrphanFinalisedOnceEndToEnd is issue 19's orphan: the chat server of
// live chats is killed (-9) while nobody asks for them again. The two
// survivors sweep every second and race for each orphan; with
// orphan-timeout = 1 s each is finalised by exactly one of them: final
// transcript in the contact store, intermediate transcript deleted, counted
// once in orphan_finalised at /kpi and /metrics, and the customer who comes
// back is told the chat ended.
func TestOrphanFinalisedOnceEndToEnd(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			db := "sqlite"
			if backend == "postgres" {
				db = storetest.PostgresDSN(t)
			}
			runOrphanRace(t, db)
		})
	}
}

func runOrphanRace(t *testing.T, db string) {
	const chats = 6
	c := startOrphanCluster(t, db)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	all := make([]*haChat, chats)
	parallel(t, chats, func(i int) (err error) {
		if all[i], err = c.openChat(ctx, i); err == nil {
			err = c.talk(ctx, all[i], i, 0, 1)
		}
		return err
	})
	var orphans []*haChat
	for _, ch := range all {
		if ch.home == "chat-1" {
			orphans = append(orphans, ch)
		}
	}
	if len(orphans) == 0 {
		t.Fatalf("no chat on chat-1 among %d", chats)
	}
	c.signal("chat-1", syscall.SIGKILL)
	survivors := []string{"chat-2", "chat-3"}
	if !settle.Poll(time.Minute, func() bool { return c.kpiSum(survivors, "orphan_finalised") >= int64(len(orphans)) }) {
		t.Fatalf("orphan_finalised %d after a minute, want %d", c.kpiSum(survivors, "orphan_finalised"), len(orphans))
	}
	time.Sleep(3 * time.Second) // three more sweeps of each survivor change nothing
	if n := c.kpiSum(survivors, "orphan_finalised"); n != int64(len(orphans)) {
		t.Errorf("orphan_finalised = %d, want %d: each orphan exactly once", n, len(orphans))
	}
	if n := c.kpiSum(survivors, "orphan_restored"); n != 0 {
		t.Errorf("orphan_restored = %d, want 0: they expired", n)
	}
	if n := c.metricSum(survivors, "parley_chat_orphan_finalised"); n != len(orphans) {
		t.Errorf("parley_chat_orphan_finalised at /metrics = %d, want %d", n, len(orphans))
	}
	contacts := openContacts(t, db, c.dataDir)
	for _, ch := range orphans {
		in, err := contacts.Interaction(ctx, ch.id)
		if err != nil {
			t.Errorf("orphan %s: no final transcript: %v", ch.id, err)
			continue
		}
		if texts := msgTexts(in.TranscriptXML); len(texts) != 2 {
			t.Errorf("orphan %s: final transcript messages %q, want the two sent", ch.id, texts)
		}
		if code := c.locationCode(ch.id); code != http.StatusNotFound {
			t.Errorf("orphan %s: location answers %d, want 404: its intermediate transcript is deleted", ch.id, code)
		}
		env, err := c.rest("/"+ch.id+"/refresh", ch.form("transcriptPosition", "1"))
		if err != nil || !env.ChatEnded && env.StatusCode == 0 {
			t.Errorf("orphan %s: the customer's refresh = %+v %v, want the chat ended", ch.id, env, err)
		}
	}
}

// startOrphanCluster runs chat-1..3 and a web API on db; the chat servers
// sweep every second and finalise an orphan one second old.
func startOrphanCluster(t *testing.T, db string) *cluster {
	t.Helper()
	dir := t.TempDir()
	names := []string{"chat-1", "chat-2", "chat-3", "gms-1"}
	c := newCluster(t, dir, names...)
	chat := "{type: chat-server, listen: %q, database: main, options: {settings: {orphan-sweep-interval: 1, orphan-timeout: 1, flex-disconnect-timeout: 600}}}"
	yaml := deploymentHead(c.dataDir, db)
	for _, name := range names[:3] {
		yaml += fmt.Sprintf("  %s: "+chat+"\n", name, c.addrs[name])
	}
	yaml += fmt.Sprintf("  gms-1: {type: web-api, listen: %q, connections: [chat-1, chat-2, chat-3], options: {settings: {request-timeout: 8, status-poll-interval: 1}}}\n", c.addrs["gms-1"])
	c.launch(dir, yaml, names...)
	return c
}

// kpiSum adds up counter key of the chat servers names' GET /kpi; a server
// that does not answer counts 0.
func (c *cluster) kpiSum(names []string, key string) (n int64) {
	for _, name := range names {
		resp, err := c.web().adminGet(c.url(name, "http", "/kpi"))
		if err != nil {
			continue
		}
		var k map[string]int64
		json.NewDecoder(resp.Body).Decode(&k)
		resp.Body.Close()
		n += k[key]
	}
	return n
}

// metricSum adds up gauge metric of the chat servers names' GET /metrics.
func (c *cluster) metricSum(names []string, metric string) (n int) {
	for _, name := range names {
		resp, err := c.web().adminGet(c.url(name, "http", "/metrics"))
		if err != nil {
			c.t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var v int
			if _, err := fmt.Sscanf(sc.Text(), metric+" %d", &v); err == nil {
				n += v
			}
		}
		resp.Body.Close()
	}
	return n
}

// locationCode is the HTTP status of GET /sessions/{id}/location on chat-2.
func (c *cluster) locationCode(id string) int {
	resp, err := c.web().get(c.url("chat-2", "http", "/sessions/"+url.PathEscape(id)+"/location"), "chat-2")
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// deploymentHead is the start of a deployment file with data-dir dataDir
// and the database main on db ("sqlite", or a PostgreSQL DSN), up to the
// applications key.
func deploymentHead(dataDir, db string) string {
	return fmt.Sprintf("data-dir: %s\ndatabases:\n  main: %s\napplications:\n", dataDir, databaseYAML(db))
}

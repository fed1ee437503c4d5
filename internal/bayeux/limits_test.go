package bayeux

import (
	"bytes"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// refusals counts Options.Refused calls by reason.
type refusals struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *refusals) add(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = make(map[string]int)
	}
	r.n[reason]++
}

func (r *refusals) get(reason string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[reason]
}

// postBatch posts msgs as one long-polling body and returns the replies.
func postBatch(t *testing.T, url string, msgs []msg) []msg {
	t.Helper()
	body, _ := json.Marshal(msgs)
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []msg
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("HTTP %d: %v", resp.StatusCode, err)
	}
	return out
}

func handshakeMsg(ext any) msg {
	m := msg{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": []string{"long-polling"}}
	if ext != nil {
		m["ext"] = ext
	}
	return m
}

// TestClientsPerAddr sends 5,000 handshakes from one address: only
// MaxClientsPerAddr clients exist, the rest are refused with 503 and
// counted, memory and goroutines stay flat; a client that leaves makes
// room for one more.
func TestClientsPerAddr(t *testing.T) {
	checkLeaks(t)
	var ref refusals
	ts := startServer(t, Options{MaxClientsPerAddr: 10, Refused: ref.add}, nil)
	before := runtime.NumGoroutine()
	batch := make([]msg, 100)
	for i := range batch {
		batch[i] = handshakeMsg(map[string]any{"pad": strings.Repeat("x", 3000)})
	}
	var ok []string
	for range 50 {
		for _, r := range postBatch(t, ts.url, batch) {
			if r["successful"] == true {
				ok = append(ok, r["clientId"].(string))
			} else if !strings.HasPrefix(r["error"].(string), "503:") {
				t.Fatalf("refused handshake: %v, want a 503", r)
			}
		}
	}
	if len(ok) != 10 || ref.get(RefusedClients) != 4990 {
		t.Fatalf("%d handshakes succeeded and %d were refused, want 10 and 4990", len(ok), ref.get(RefusedClients))
	}
	ts.mu.RLock()
	live := len(ts.clients)
	ts.mu.RUnlock()
	if live != 10 {
		t.Errorf("%d clients kept, want 10", live)
	}
	if g := runtime.NumGoroutine(); g > before+10 {
		t.Errorf("goroutines %d after 5,000 handshakes, were %d", g, before)
	}
	postBatch(t, ts.url, []msg{{"channel": "/meta/disconnect", "clientId": ok[0]}})
	if r := postBatch(t, ts.url, []msg{handshakeMsg(nil)}); r[0]["successful"] != true {
		t.Errorf("handshake under the cap after a disconnect: %v", r[0])
	}
}

// TestExtSize refuses a handshake whose ext is past MaxExtSize, and takes
// one just under it.
func TestExtSize(t *testing.T) {
	checkLeaks(t)
	var ref refusals
	ts := startServer(t, Options{MaxExtSize: 1000, Refused: ref.add}, nil)
	under := map[string]any{"k": strings.Repeat("x", 1000-len(`{"k":""}`))}
	over := map[string]any{"k": strings.Repeat("x", 1000)}
	if r := postBatch(t, ts.url, []msg{handshakeMsg(under)}); r[0]["successful"] != true {
		t.Errorf("ext of 1000 bytes: %v", r[0])
	}
	r := postBatch(t, ts.url, []msg{handshakeMsg(over)})
	if r[0]["successful"] == true || !strings.HasPrefix(r[0]["error"].(string), "400:") || ref.get(RefusedExt) != 1 {
		t.Errorf("ext of 1009 bytes: %v, refusals %d", r[0], ref.get(RefusedExt))
	}
}

// TestChannelsLimited checks that with Channels set a client can neither
// subscribe to nor publish on any other channel: no relay between clients.
func TestChannelsLimited(t *testing.T) {
	checkLeaks(t)
	var ref refusals
	ts := startServer(t, Options{Channels: []string{"/service/echo/"}, Refused: ref.add},
		func(s *Server) { s.HandleService("/service/echo/", echoService) })
	id := postBatch(t, ts.url, []msg{handshakeMsg(nil)})[0]["clientId"]
	for _, m := range []msg{
		{"channel": "/meta/subscribe", "clientId": id, "subscription": "/**"},
		{"channel": "/meta/subscribe", "clientId": id, "subscription": "/chat/room"},
		{"channel": "/chat/room", "clientId": id, "data": msg{"text": "relayed"}},
	} {
		r := postBatch(t, ts.url, []msg{m})[0]
		if r["successful"] == true || !strings.HasPrefix(r["error"].(string), "403:") {
			t.Errorf("%v: %v, want a 403", m, r)
		}
	}
	if ref.get(RefusedChannel) != 3 {
		t.Errorf("%d channel refusals, want 3", ref.get(RefusedChannel))
	}
	for _, m := range []msg{
		{"channel": "/meta/subscribe", "clientId": id, "subscription": "/service/echo/a"},
		{"channel": "/service/echo/a", "clientId": id, "data": msg{"text": "hi"}},
	} {
		if r := postBatch(t, ts.url, []msg{m}); r[len(r)-1]["successful"] != true {
			t.Errorf("%v: %v", m, r)
		}
	}
}

// TestConnectsPerAddr holds MaxConnectsPerAddr long-polling connects of
// one address; the next is answered at once, with advice to wait.
func TestConnectsPerAddr(t *testing.T) {
	checkLeaks(t)
	var ref refusals
	ts := startServer(t, Options{MaxConnectsPerAddr: 2, Timeout: time.Minute, Refused: ref.add}, nil)
	ids := make([]any, 3)
	for i := range ids {
		ids[i] = postBatch(t, ts.url, []msg{handshakeMsg(nil)})[0]["clientId"]
		postBatch(t, ts.url, []msg{{"channel": "/meta/connect", "clientId": ids[i], "connectionType": "long-polling"}})
	}
	var wg sync.WaitGroup
	for _, id := range ids[:2] {
		wg.Go(func() {
			postBatch(t, ts.url, []msg{{"channel": "/meta/connect", "clientId": id, "connectionType": "long-polling"}})
		})
	}
	eventually(t, "two connects held", func() bool {
		ts.parkMu.Lock()
		defer ts.parkMu.Unlock()
		return ts.parked["127.0.0.1"] == 2
	})
	start := time.Now()
	r := postBatch(t, ts.url, []msg{{"channel": "/meta/connect", "clientId": ids[2], "connectionType": "long-polling"}})
	last := r[len(r)-1]
	adv, _ := last["advice"].(map[string]any)
	if last["successful"] != true || adv["interval"] != float64(1000) || time.Since(start) > 20*time.Second || ref.get(RefusedConnects) != 1 {
		t.Errorf("third connect: %v after %v, refusals %d; want an answer at once (not after the minute's hold) advising 1000 ms",
			last, time.Since(start), ref.get(RefusedConnects))
	}
	ts.Close() // answers the held connects
	wg.Wait()
}

// TestWebsocketsPerAddr opens MaxClientsPerAddr websockets from one
// address: the next is closed at once and counted; closing one makes room.
func TestWebsocketsPerAddr(t *testing.T) {
	checkLeaks(t)
	var ref refusals
	ts := startServer(t, Options{MaxClientsPerAddr: 3, Refused: ref.add}, nil)
	wsURL := "ws" + strings.TrimPrefix(ts.url, "http")
	var open []*websocket.Conn
	for range 3 {
		c, _, err := websocket.Dial(t.Context(), wsURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		open = append(open, c)
	}
	eventually(t, "three websockets tracked", func() bool {
		ts.mu.RLock()
		defer ts.mu.RUnlock()
		return ts.wsByAddr["127.0.0.1"] == 3
	})
	extra, _, err := websocket.Dial(t.Context(), wsURL, nil)
	if err == nil {
		defer extra.CloseNow()
		if _, _, err = extra.Read(t.Context()); err == nil {
			t.Fatal("a fourth websocket was served")
		}
	}
	if ref.get(RefusedClients) != 1 {
		t.Errorf("%d refusals, want 1", ref.get(RefusedClients))
	}
	open[0].Close(websocket.StatusNormalClosure, "")
	eventually(t, "a websocket closed makes room", func() bool {
		ts.mu.RLock()
		defer ts.mu.RUnlock()
		return ts.wsByAddr["127.0.0.1"] == 2
	})
}

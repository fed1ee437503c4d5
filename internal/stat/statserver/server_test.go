package statserver

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/stat"
	"github.com/parley-chat/parley/internal/wire"
)

// events collects the unsolicited messages of a test client.
type events struct {
	mu   sync.Mutex
	msgs []wire.Message
}

func (e *events) ServeWire(_ context.Context, _ *wire.Conn, m wire.Message) {
	e.mu.Lock()
	e.msgs = append(e.msgs, m)
	e.mu.Unlock()
}

// last returns the body of the last message called name for ref.
func (e *events) last(name string, ref int64) (infoBody, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.msgs) - 1; i >= 0; i-- {
		var b infoBody
		if e.msgs[i].Name == name && json.Unmarshal(e.msgs[i].Body, &b) == nil && b.ReferenceID == ref {
			return b, true
		}
	}
	return infoBody{}, false
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testConfig(t *testing.T, name string) Config {
	t.Helper()
	opts := config.DefaultStatServerOptions()
	opts.HA.ChunkTimeout, opts.HA.ConnectTimeout = 50*time.Millisecond, 100*time.Millisecond
	sc, errs := opts.Definitions([]string{"alice", "bob"}, []string{"chat"})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return Config{Name: name, Options: opts, Stat: sc, Tick: 20 * time.Millisecond}
}

// start runs a server for cfg on a loopback port until the test ends.
func start(t *testing.T, cfg Config, ln net.Listener) (*Server, string) {
	t.Helper()
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, ln.Addr().String()
}

func dial(t *testing.T, addr string) (*wire.Conn, *events) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := wire.Dial(ctx, "ws://"+addr+Path, wire.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ev := &events{}
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Serve(context.Background(), ev) }()
	t.Cleanup(func() { c.Close(); <-done })
	return c, ev
}

func request(t *testing.T, c *wire.Conn, name string, body any) (wire.Message, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Request(ctx, name, body, nil)
}

func openBody(ref int64, ot, id, st string, mode string) map[string]any {
	return map[string]any{"referenceId": ref, "object": map[string]string{"objectId": id, "objectType": ot},
		"statisticType": st, "timeRange": "ServiceLevel", "notification": map[string]any{"mode": mode}}
}

func TestOpenNotifyGetClose(t *testing.T) {
	s, addr := start(t, testConfig(t, "stat-1"), nil)
	c, ev := dial(t, addr)
	if m, err := request(t, c, wire.RequestOpenStatistic, openBody(1, "Queue", "chat", "ChatsInQueue", "Immediate")); err != nil || m.Name != wire.EventStatisticOpened {
		t.Fatalf("open: %v %v", m.Name, err)
	}
	eventually(t, "the first EventInfo", func() bool { b, ok := ev.last(wire.EventInfo, 1); return ok && b.Value == 0 })
	now := time.Now()
	s.Apply(stat.Report{ID: 1, Name: "EventPlacedInQueue", Time: now, Interaction: "c1", Queue: "chat"})
	eventually(t, "EventInfo with 1 in queue", func() bool { b, ok := ev.last(wire.EventInfo, 1); return ok && b.Value == 1 })

	periodic := openBody(2, "Queue", "chat", "ChatsEntered", "Periodical")
	periodic["notification"] = map[string]any{"mode": "Periodical", "frequency": 1}
	if _, err := request(t, c, wire.RequestOpenStatistic, periodic); err != nil {
		t.Fatal(err)
	}
	s.Apply(stat.Report{ID: 2, Name: "EventPlacedInQueue", Time: now, Interaction: "c2", Queue: "chat"})
	eventually(t, "a periodical EventInfo", func() bool { b, ok := ev.last(wire.EventInfo, 2); return ok && b.Value == 1 })

	m, err := request(t, c, wire.RequestGetStatistic, map[string]int64{"referenceId": 1})
	var b infoBody
	if err != nil || m.Name != wire.EventInfo || json.Unmarshal(m.Body, &b) != nil || b.Value != 2 || b.StatisticType != "ChatsInQueue" {
		t.Fatalf("get: %s %s %v", m.Name, m.Body, err)
	}
	if m, err := request(t, c, wire.RequestCloseStatistic, map[string]int64{"referenceId": 1}); err != nil || m.Name != wire.EventStatisticClosed {
		t.Fatalf("close: %v %v", m.Name, err)
	}
	if _, err := request(t, c, wire.RequestGetStatistic, map[string]int64{"referenceId": 1}); code(err) != wire.CodeNoSuchStatistic {
		t.Fatalf("get after close: %v", err)
	}
}

func code(err error) wire.Code {
	if we, ok := errors.AsType[*wire.Error](err); ok {
		return we.Code
	}
	return 0
}

func TestOpenStatisticEx(t *testing.T) {
	s, addr := start(t, testConfig(t, "stat-1"), nil)
	c, ev := dial(t, addr)
	body := map[string]any{"referenceId": 7, "object": map[string]string{"objectId": "chat", "objectType": "Queue"},
		"metric":       map[string]string{"category": "TotalNumber", "mainMask": "CallAbandoned", "intervalType": "SlidingWindow", "timeProfile": "600:60"},
		"notification": map[string]any{"mode": "Immediate"}}
	if _, err := request(t, c, wire.RequestOpenStatisticEx, body); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s.Apply(stat.Report{ID: 1, Name: "EventPlacedInQueue", Time: now, Interaction: "c1", Queue: "chat"})
	s.Apply(stat.Report{ID: 2, Name: "EventProcessingStopped", Time: now, Interaction: "c1"})
	eventually(t, "one abandoned", func() bool { b, ok := ev.last(wire.EventInfo, 7); return ok && b.Value == 1 })
}

// TestOpenErrors: bad input gets EventError with its documented code and
// opens nothing.
func TestOpenErrors(t *testing.T) {
	s, addr := start(t, testConfig(t, "stat-1"), nil)
	c, _ := dial(t, addr)
	ex := func(mask, interval string) map[string]any {
		return map[string]any{"referenceId": 9, "object": map[string]string{"objectId": "chat", "objectType": "Queue"},
			"metric": map[string]string{"category": "TotalNumber", "mainMask": mask, "intervalType": interval, "timeProfile": "10"}}
	}
	for _, tc := range []struct {
		name string
		body any
		want wire.Code
	}{
		{"unknown object", openBody(1, "Queue", "nope", "ChatsInQueue", "Immediate"), wire.CodeNoSuchObject},
		{"wrong object type", openBody(1, "Agent", "alice", "ChatsInQueue", "Immediate"), wire.CodeNoSuchObject},
		{"unknown stat type", openBody(1, "Queue", "chat", "Nope", "Immediate"), wire.CodeNoSuchStatType},
		{"bad mode", openBody(1, "Queue", "chat", "ChatsInQueue", "Sometimes"), wire.CodeInvalidStatistic},
		{"no reference", openBody(0, "Queue", "chat", "ChatsInQueue", "Immediate"), wire.CodeBadRequest},
		{"malformed mask", ex("CallWait,~Nope", "Selection"), wire.CodeInvalidStatistic},
		{"malformed profile", ex("CallWait", "Forever"), wire.CodeInvalidStatistic},
		{"unknown field", map[string]any{"referenceId": 1, "bogus": true}, wire.CodeBadRequest},
	} {
		name := wire.RequestOpenStatistic
		if _, ok := tc.body.(map[string]any)["metric"]; ok {
			name = wire.RequestOpenStatisticEx
		}
		if _, err := request(t, c, name, tc.body); code(err) != tc.want {
			t.Errorf("%s: error %v; want code %d", tc.name, err, tc.want)
		}
	}
	if _, err := request(t, c, wire.RequestOpenStatistic, openBody(1, "Queue", "chat", "ChatsInQueue", "Immediate")); err != nil {
		t.Fatal(err)
	}
	if _, err := request(t, c, wire.RequestOpenStatistic, openBody(1, "Queue", "chat", "ChatsInQueue", "Immediate")); code(err) != wire.CodeDuplicateReference {
		t.Errorf("duplicate reference: %v", err)
	}
	s.mu.Lock()
	n := len(s.clients)
	s.mu.Unlock()
	if n != 1 {
		t.Errorf("clients = %d", n)
	}
}

func TestGMSAndWallboard(t *testing.T) {
	s, addr := start(t, testConfig(t, "stat-1"), nil)
	s.Apply(stat.Report{ID: 1, Name: "EventAgentLogin", Time: time.Now(), Agent: "alice"})
	post := func(body string) (int, map[string]any) {
		r, err := http.Post("http://"+addr+"/genesys/1/statistic", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(r.Body).Decode(&out)
		return r.StatusCode, out
	}
	if st, out := post(`{"objectId":"Environment","objectType":"Tenant","statisticType":"AgentsReady"}`); st != 200 || out["value"] != 1.0 {
		t.Errorf("GMS statistic = %d %v", st, out)
	}
	if st, out := post(`{"objectId":"x","objectType":"Queue","statisticType":"ChatsInQueue"}`); st != 403 || out["code"] != 2300.0 {
		t.Errorf("GMS unknown object = %d %v", st, out)
	}
	r, err := http.Get("http://" + addr + "/wallboard/data")
	if err != nil {
		t.Fatal(err)
	}
	var d boardData
	_ = json.NewDecoder(r.Body).Decode(&d)
	r.Body.Close()
	if len(d.Agents) != 2 || d.Agents[0].States["AgentState"] != "WaitForNextCall" || d.Tenant.Values["AgentsReady"] != 1 {
		t.Errorf("wallboard data = %+v", d)
	}
	r, err = http.Get("http://" + addr + "/wallboard/")
	if err != nil || r.StatusCode != 200 || !strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("wallboard page: %v %v", r, err)
	}
	r.Body.Close()
}

// serving waits until the server at addr answers /healthz: its wallboard
// statistics are open.
func serving(t *testing.T, addr string) {
	t.Helper()
	eventually(t, "the server to serve", func() bool {
		r, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == 200
	})
}

// feed applies the same reports to servers, as their shared stream would.
func feed(first int64, now time.Time, servers ...*Server) int64 {
	id := first
	for _, r := range []stat.Report{{Name: "EventPlacedInQueue", Queue: "chat"}, {Name: "EventProcessingStopped"}} {
		r.ID, r.Time, r.Interaction = id, now, "ixn-"+string(rune('a'+first))
		for _, s := range servers {
			s.Apply(r)
		}
		id++
	}
	return id
}

// TestPairReplicates: a statistic opened on the primary reaches the backup
// with its aggregate, counted once; a restarted backup gets it back; a cut
// within the session's life replicates only what was opened meanwhile.
func TestPairReplicates(t *testing.T) {
	pln, _ := net.Listen("tcp", "127.0.0.1:0")
	paddr := pln.Addr().String()
	pcfg := testConfig(t, "stat-1")
	pcfg.Peer = &service.Endpoint{Name: "stat-2"}
	primary, _ := start(t, pcfg, pln)
	serving(t, paddr)
	now := time.Now()
	next := feed(1, now, primary) // before the statistic opens: not counted
	c, _ := dial(t, paddr)
	if _, err := request(t, c, wire.RequestOpenStatistic, openBody(1, "Queue", "chat", "ChatsEntered", "NoNotification")); err != nil {
		t.Fatal(err)
	}
	next = feed(next, now, primary)
	def := stat.Definition{ObjectType: stat.Queue, ObjectID: "chat", StatType: "ChatsEntered", TimeProfile: stat.DefaultProfile}
	valueOf := func(s *Server) float64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		v, _ := s.engine.Value(def, time.Now())
		return v.Number
	}

	bcfg := testConfig(t, "stat-2")
	bcfg.Peer, bcfg.Backup = &service.Endpoint{Name: "stat-1", Addr: paddr}, true
	runBackup := func() (*Server, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		b, _ := New(bcfg)
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		done := make(chan struct{})
		go func() { defer close(done); _ = b.Serve(ctx, ln) }()
		return b, func() { cancel(); <-done }
	}
	backup, stop := runBackup()
	eventually(t, "the backup to hold the primary's aggregate", func() bool { return valueOf(backup) == 1 })
	next = feed(next, now, primary, backup) // both count what follows, once
	if valueOf(backup) != 2 || valueOf(primary) != 2 {
		t.Fatalf("after the replication: primary %v, backup %v; want 2", valueOf(primary), valueOf(backup))
	}
	stop()

	backup, stop = runBackup() // restarted empty: everything is replicated again
	defer stop()
	eventually(t, "the restarted backup to get the aggregate back", func() bool { return valueOf(backup) == 2 })
	eventually(t, "the replication to settle", primary.ha.settled)

	// Cut the link: the session is restored and only the statistic opened
	// during the cut crosses.
	sentBefore := counter(t, primary, "parley_stat_ha_statistics_sent_total")
	backup.mu.Lock()
	link := backup.ha.link
	backup.mu.Unlock()
	link.Close()
	eventually(t, "the primary to see the cut", func() bool {
		primary.mu.Lock()
		defer primary.mu.Unlock()
		return primary.ha.link == nil
	})
	if _, err := request(t, c, wire.RequestOpenStatistic, openBody(2, "Queue", "chat", "ChatsTransferred", "NoNotification")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a restored session", func() bool {
		return counter(t, backup, "parley_stat_ha_sessions_total") >= 2 && func() bool {
			backup.mu.Lock()
			defer backup.mu.Unlock()
			return backup.engine.IsOpen(stat.Definition{ObjectType: stat.Queue, ObjectID: "chat", StatType: "ChatsTransferred", TimeProfile: stat.DefaultProfile})
		}()
	})
	eventually(t, "the replication to settle", primary.ha.settled)
	if got := counter(t, primary, "parley_stat_ha_statistics_sent_total") - sentBefore; got != 1 {
		t.Errorf("statistics replicated after a restored session = %v; want 1", got)
	}
	if restored := labelled(t, backup, "parley_stat_ha_sessions_total", "true"); restored != 1 {
		t.Errorf("restored sessions = %v; want 1", restored)
	}
	_ = next
}

// labelled returns the counter name{restored=value} of s.
func labelled(t *testing.T, s *Server, name, value string) float64 {
	t.Helper()
	mfs, _ := s.metrics.Gather()
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// counter sums a counter of s's registry.
func counter(t *testing.T, s *Server, name string) float64 {
	t.Helper()
	mfs, err := s.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

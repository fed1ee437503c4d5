package statserver

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/stat"
	"github.com/parley-chat/parley/internal/wire"
)

// clock is a settable clock for a Server.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// TestResetNotification: a Reset statistic reports the value it had just
// before each reset of its Growing profile, and counts from zero after.
func TestResetNotification(t *testing.T) {
	clk := &clock{now: time.Date(2026, 12, 7, 10, 59, 59, 0, time.UTC)}
	cfg := testConfig(t, "stat-1")
	cfg.Now = clk.Now
	s, addr := start(t, cfg, nil)
	c, ev := dial(t, addr)
	body := openBody(1, "Queue", "chat", "ChatsEntered", "Reset")
	body["timeProfile"] = "Hourly"
	if _, err := request(t, c, wire.RequestOpenStatistic, body); err != nil {
		t.Fatal(err)
	}
	s.Apply(stat.Report{ID: 1, Name: "EventPlacedInQueue", Time: clk.Now(), Interaction: "a", Queue: "chat"})
	if _, ok := ev.last(wire.EventInfo, 1); ok {
		t.Fatal("a Reset statistic reported before its reset")
	}
	clk.set(time.Date(2026, 12, 7, 11, 0, 0, 5e6, time.UTC))
	eventually(t, "the value before the reset", func() bool {
		b, ok := ev.last(wire.EventInfo, 1)
		return ok && b.Value == 1 && b.Time == time.Date(2026, 12, 7, 10, 59, 59, 999e6, time.UTC).UnixMilli()
	})
	m, err := request(t, c, wire.RequestGetStatistic, map[string]int64{"referenceId": 1})
	if err != nil || m.Name != wire.EventInfo || string(m.Body) == "" {
		t.Fatal(m, err)
	}
	var b infoBody
	_ = json.Unmarshal(m.Body, &b)
	if b.Value != 0 {
		t.Errorf("after the reset = %v; want 0", b.Value)
	}
}

// TestValidityEvents: clients hear EventStatInvalid when the reporting
// stream is lost and EventStatValid when it is back.
func TestValidityEvents(t *testing.T) {
	s, addr := start(t, testConfig(t, "stat-1"), nil)
	c, ev := dial(t, addr)
	if _, err := request(t, c, wire.RequestOpenStatistic, openBody(3, "Queue", "chat", "ChatsInQueue", "NoNotification")); err != nil {
		t.Fatal(err)
	}
	s.Stream(true)
	eventually(t, "EventStatValid", func() bool { _, ok := ev.last(wire.EventStatValid, 3); return ok })
	s.Stream(false)
	eventually(t, "EventStatInvalid", func() bool { _, ok := ev.last(wire.EventStatInvalid, 3); return ok })
}

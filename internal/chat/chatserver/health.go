package chatserver

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/parley-chat/parley/internal/config"
)

// healthTick is how often runHealth looks at [health-service], so that a
// reload takes effect within a second.
const healthTick = time.Second

// runHealth writes the KPI counters to the log every [health-service]
// log-output-timeout, as log-output-proviso and log-output-content say,
// until ctx is done.
func (s *Server) runHealth(ctx context.Context) {
	tick := time.NewTicker(healthTick)
	defer tick.Stop()
	var prev map[string]int64
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			h := s.options().HealthService
			if h.LogOutputTimeout == 0 || now.Sub(last) < time.Duration(h.LogOutputTimeout)*time.Second-healthTick/2 {
				continue
			}
			last = now
			cur := s.kpi.snapshot()
			if attrs, ok := healthReport(cur, prev, h); ok {
				s.log.LogAttrs(ctx, slog.LevelInfo, "health metrics", attrs...)
			}
			prev = cur
		}
	}
}

// healthReport returns the metrics of cur to log after the output prev,
// and whether a line is due: under the proviso update, only when a metric
// changed. The content set keeps the metrics that are not zero, new those
// that changed, all every one.
func healthReport(cur, prev map[string]int64, h config.HealthService) ([]slog.Attr, bool) {
	changed := false
	var attrs []slog.Attr
	for _, name := range slices.Sorted(maps.Keys(cur)) {
		v := cur[name]
		diff := v != prev[name]
		changed = changed || diff
		if h.LogOutputContent == "all" || (h.LogOutputContent == "new" && diff) || (h.LogOutputContent == "set" && v != 0) {
			attrs = append(attrs, slog.Int64(name, v))
		}
	}
	return attrs, changed || h.LogOutputProviso == "always"
}

package chatserver

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/internal/transcript"
)

// kpi holds the counters served at GET /kpi and as Prometheus metrics; their
// meanings are documented in docs/ha.md ("KPI counters").
type kpi struct {
	created, closed, restored, current atomic.Int64
	messages                           atomic.Int64
	saveFailed                         atomic.Int64 // saves that failed after their retries
	fenced                             atomic.Int64 // sessions dropped because another server took them
	ixnSubmitFailed                    atomic.Int64 // chats whose submit failed at least once
	orphansRestored                    atomic.Int64 // orphans the sweeper restored here
	orphansFinalised                   atomic.Int64 // orphans the sweeper finalised here
}

func (k *kpi) counters() map[string]*atomic.Int64 {
	return map[string]*atomic.Int64{
		"session_created":        &k.created,
		"session_closed":         &k.closed,
		"session_restored":       &k.restored,
		"session_fenced":         &k.fenced,
		"sessions_current":       &k.current,
		"messages_received":      &k.messages,
		"transcript_save_failed": &k.saveFailed,
		"ixn_submit_failed":      &k.ixnSubmitFailed,
		"orphan_restored":        &k.orphansRestored,
		"orphan_finalised":       &k.orphansFinalised,
	}
}

// opened counts a session that came to life here, created or restored, in
// sessions_current. Only the session's drainer calls it.
func (k *kpi) opened(e *entry) {
	e.counted = true
	k.current.Add(1)
}

// left uncounts a session that ended or was dropped; a session that never
// came to life (its creation or restoration failed) was never counted.
func (k *kpi) left(e *entry) {
	if e.counted {
		e.counted = false
		k.current.Add(-1)
	}
}

// snapshot returns the counters by their KPI names.
func (k *kpi) snapshot() map[string]int64 {
	out := make(map[string]int64)
	for name, v := range k.counters() {
		out[name] = v.Load()
	}
	return out
}

// register exposes the counters as parley_chat_<name> metrics.
func (k *kpi) register(r *prometheus.Registry) {
	for name, v := range k.counters() {
		opts := prometheus.GaugeOpts{Name: "parley_chat_" + name, Help: "Chat server KPI counter " + name + "."}
		r.MustRegister(prometheus.NewGaugeFunc(opts, func() float64 { return float64(v.Load()) }))
	}
}

// countMessages counts the messages among events received from parties.
func (k *kpi) countMessages(events []transcript.Event) {
	for _, e := range events {
		if e.Type == transcript.Message {
			k.messages.Add(1)
		}
	}
}

package statserver

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/stat"
	"github.com/parley-chat/parley/internal/wire"
)

// Source is a reporting stream: the interaction servers of one pair, or
// (later) an interaction proxy merging a cluster's.
type Source interface {
	// Run follows the stream into sink until ctx is done. On every
	// (re)connection it asks for the events after sink.Position(), hands
	// each to sink.Apply in stream order, one at a time, and the server's
	// state as of the subscription to sink.Reconcile; sink.Stream reports
	// the stream lost and found again. Events may come again after a
	// reconnection: the sink skips those it has (stat.Engine.Apply).
	Run(ctx context.Context, sink Sink) error
}

// Sink is what a Source feeds: the Server. Its methods are safe for
// concurrent use.
type Sink interface {
	Position() int64
	Apply(stat.Report)
	// Reconcile applies ov, the source's state once the events up to
	// after are applied (stat.Engine.Reconcile).
	Reconcile(ov stat.Overview, after int64)
	Stream(up bool)
}

// ixnPath is where an interaction server serves its wire protocol.
const ixnPath = "/wire/ixn"

// IxnSource follows the reporting stream of the interaction servers of one
// primary/backup pair, each dialled directly: the backup refuses the
// registration and is redialled, so the stream always comes from the
// primary.
type IxnSource struct {
	Name      string             // the client name: the stat server's application name
	Endpoints []service.Endpoint // one server, or the two of a pair
	Trust     *service.Trust
	Options   wire.Options
}

// Run implements Source.
func (s *IxnSource) Run(ctx context.Context, sink Sink) error {
	var mu sync.Mutex // one delivery at a time, over every connection
	var wg sync.WaitGroup
	for _, ep := range s.Endpoints {
		h := wire.HandlerFunc(func(_ context.Context, _ *wire.Conn, m wire.Message) {
			r, ok := report(m)
			if ok {
				mu.Lock()
				sink.Apply(r)
				mu.Unlock()
			}
		})
		opts := wire.ClientOptions{Options: s.Trust.WireOptions(s.Options), MaxBackoff: time.Second,
			OnConnect: func(ctx context.Context, c *wire.Conn) error { return s.subscribe(ctx, c, ep, sink) }}
		cl := wire.NewClient(ep.URL("ws", ixnPath), h, opts)
		wg.Go(func() {
			_ = cl.Run(ctx)
		})
	}
	wg.Wait()
	return nil
}

// subscribe proves the stat server, registers it as a reporting client,
// subscribes to the stream from the event after the last one applied, and
// reads the server's agents and waiting interactions to reconcile with.
func (s *IxnSource) subscribe(ctx context.Context, c *wire.Conn, ep service.Endpoint, sink Sink) error {
	if err := s.Trust.Handshake(ctx, c, ep); err != nil {
		return fmt.Errorf("interaction server %s: %w", ep.Name, err)
	}
	if _, err := c.Request(ctx, wire.RequestRegisterClient,
		map[string]string{"clientName": s.Name, "clientType": "reporting"}, nil); err != nil {
		return fmt.Errorf("interaction server %s: register: %w", ep.Name, err)
	}
	var ack struct {
		LastEventID int64 `json:"lastEventId"`
	}
	if _, err := c.Request(ctx, wire.RequestSubscribe, map[string]any{"topic": "reporting", "fromId": sink.Position() + 1}, &ack); err != nil {
		return fmt.Errorf("interaction server %s: subscribe: %w", ep.Name, err)
	}
	var ov ixn.Overview
	if _, err := c.Request(ctx, wire.RequestGetOverview, map[string]any{}, &ov); err != nil {
		return fmt.Errorf("interaction server %s: overview: %w", ep.Name, err)
	}
	sink.Reconcile(overview(ov), ack.LastEventID)
	sink.Stream(true)
	go func() { // ends with the connection, which ends with ctx
		<-c.Done()
		sink.Stream(false)
	}()
	return nil
}

// overview is what the stat engine reconciles with of an interaction
// server's overview.
func overview(ov ixn.Overview) stat.Overview {
	out := stat.Overview{Agents: map[string]bool{}}
	for _, a := range ov.Agents {
		out.Agents[a.ID] = a.Ready
	}
	for _, q := range ov.Queues {
		out.Waiting = append(out.Waiting, q.Interactions...)
	}
	return out
}

// report decodes a reporting event; ok is false for anything else.
func report(m wire.Message) (stat.Report, bool) {
	var b ixn.Body
	if len(m.Body) == 0 || json.Unmarshal(m.Body, &b) != nil || b.EventID == 0 {
		return stat.Report{}, false
	}
	return stat.Report{ID: b.EventID, Name: m.Name, Time: time.UnixMilli(b.Time), Interaction: b.InteractionID,
		Agent: b.AgentID, Queue: b.Queue, Kind: b.Kind, From: b.From}, true
}

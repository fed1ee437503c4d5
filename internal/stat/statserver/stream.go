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
	// Run follows the stream until ctx is done. On every (re)connection it
	// asks for the events after from(), and hands each event to deliver,
	// in stream order, on one goroutine at a time; up reports when the
	// stream is lost and found again. Events may come again after a
	// reconnection: the caller skips those it has (stat.Engine.Apply).
	Run(ctx context.Context, from func() int64, deliver func(stat.Report), up func(bool)) error
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
func (s *IxnSource) Run(ctx context.Context, from func() int64, deliver func(stat.Report), up func(bool)) error {
	var mu sync.Mutex // one delivery at a time, over every connection
	var wg sync.WaitGroup
	for _, ep := range s.Endpoints {
		h := wire.HandlerFunc(func(_ context.Context, _ *wire.Conn, m wire.Message) {
			r, ok := report(m)
			if ok {
				mu.Lock()
				deliver(r)
				mu.Unlock()
			}
		})
		opts := wire.ClientOptions{Options: s.Trust.WireOptions(s.Options), MaxBackoff: time.Second,
			OnConnect: func(ctx context.Context, c *wire.Conn) error { return s.subscribe(ctx, c, ep, from, up) }}
		cl := wire.NewClient(ep.URL("ws", ixnPath), h, opts)
		wg.Go(func() {
			_ = cl.Run(ctx)
		})
	}
	wg.Wait()
	return nil
}

// subscribe proves the stat server, registers it as a reporting client and
// subscribes to the stream from the event after the last one applied.
func (s *IxnSource) subscribe(ctx context.Context, c *wire.Conn, ep service.Endpoint, from func() int64, up func(bool)) error {
	if err := s.Trust.Handshake(ctx, c, ep); err != nil {
		return fmt.Errorf("interaction server %s: %w", ep.Name, err)
	}
	if _, err := c.Request(ctx, wire.RequestRegisterClient,
		map[string]string{"clientName": s.Name, "clientType": "reporting"}, nil); err != nil {
		return fmt.Errorf("interaction server %s: register: %w", ep.Name, err)
	}
	if _, err := c.Request(ctx, wire.RequestSubscribe, map[string]any{"topic": "reporting", "fromId": from() + 1}, nil); err != nil {
		return fmt.Errorf("interaction server %s: subscribe: %w", ep.Name, err)
	}
	up(true)
	go func() { // ends with the connection, which ends with ctx
		<-c.Done()
		up(false)
	}()
	return nil
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

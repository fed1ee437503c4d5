package statserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/stat"
	"github.com/parley-chat/parley/internal/wire"
)

// pair is this server's side of a hot standby pair (docs/stat.md, HA): the
// statistics not yet replicated to the peer, and the link. The backup
// dials the primary's HAPath and opens or restores a session; then each
// side pushes its new statistics with their historical aggregates in
// chunks. Its fields are guarded by Server.mu.
type pair struct {
	s    *Server
	hash string // of the definitions; both sides must have the same

	pending map[stat.Definition]bool // opened here, not yet sent to the peer
	gone    map[stat.Definition]bool // closed here, not yet told to the peer
	peers   map[stat.Definition]bool // held open for the peer
	link    *wire.Conn               // the current link, nil while cut
	session string                   // the session id; "" before the first
	cutAt   time.Time                // when the link was last cut (primary)
	sending int                      // statistics sent and not yet acknowledged

	wake     chan struct{} // capacity 1: something to push
	sent     prometheus.Counter
	received prometheus.Counter
	sessions *prometheus.CounterVec
}

func newPair(s *Server) *pair {
	p := &pair{s: s, hash: definitionsHash(s.cfg), pending: map[stat.Definition]bool{}, gone: map[stat.Definition]bool{},
		peers: map[stat.Definition]bool{}, wake: make(chan struct{}, 1)}
	p.sent = prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_stat_ha_statistics_sent_total",
		Help: "Statistics (with their historical aggregates) replicated to the HA peer."})
	p.received = prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_stat_ha_statistics_received_total",
		Help: "Statistics (with their historical aggregates) received from the HA peer."})
	p.sessions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_stat_ha_sessions_total",
		Help: "HA sessions opened with the peer, by whether a cut session was restored."}, []string{"restored"})
	pending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_stat_ha_pending",
		Help: "Statistics opened or closed here and not yet acknowledged by the HA peer."}, func() float64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		return float64(len(p.pending) + len(p.gone) + p.sending)
	})
	s.metrics.MustRegister(p.sent, p.received, p.sessions, pending)
	return p
}

// definitionsHash fingerprints what must be identical on both servers.
func definitionsHash(cfg Config) string {
	o := cfg.Options
	b, _ := json.Marshal([]any{o.Settings.Tenant, o.TimeProfiles, o.TimeRanges, o.StatTypes, o.Groups, cfg.Stat.Agents, cfg.Stat.Queues})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// debug logs at info level when debug-level is HA.
func (p *pair) debug(msg string, args ...any) {
	if p.s.cfg.Options.Settings.DebugLevel == "HA" {
		p.s.log.Info("HA: "+msg, args...)
	}
}

// opened records def as not replicated. s.mu must be held.
func (p *pair) opened(def stat.Definition) {
	if p.s.cfg.Peer == nil {
		return
	}
	p.pending[def] = true
	delete(p.gone, def)
	p.poke()
}

// closed records def as closed here. s.mu must be held.
func (p *pair) closed(def stat.Definition) {
	if p.s.cfg.Peer == nil {
		return
	}
	delete(p.pending, def)
	p.gone[def] = true
	p.poke()
}

func (p *pair) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run dials the primary (on the backup) and pushes chunks until ctx is
// done.
func (p *pair) run(ctx context.Context) {
	if p.s.cfg.Peer == nil {
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	if p.s.cfg.Backup {
		wg.Go(func() { p.dialLoop(ctx) })
	}
	p.pushLoop(ctx)
}

// sessionRequest is the body of RequestHASession.
type sessionRequest struct {
	Session string `json:"session"` // the session to restore; "" for a new one
	Hash    string `json:"definitionsHash"`
}

// sessionReply is the body of EventHASession.
type sessionReply struct {
	Session  string `json:"session"`
	Restored bool   `json:"restored"`
}

// dialLoop keeps the backup's link to the primary, redialling every
// connect-timeout.
func (p *pair) dialLoop(ctx context.Context) {
	ep := *p.s.cfg.Peer
	ha := p.s.cfg.Options.HA
	for ctx.Err() == nil {
		if err := p.dialOnce(ctx, ep); err != nil && ctx.Err() == nil {
			p.debug("link to the primary failed", "peer", ep.Name, "err", err)
		}
		t := time.NewTimer(ha.ConnectTimeout)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}

func (p *pair) linkOptions() wire.Options {
	ha := p.s.cfg.Options.HA
	opts := p.s.wireOpts
	opts.PingInterval = min(ha.ADDPTimeout, ha.ADDPRemoteTimeout)
	return opts
}

// dialOnce runs one link to the primary, until it ends.
func (p *pair) dialOnce(ctx context.Context, ep service.Endpoint) error {
	c, err := wire.Dial(ctx, ep.URL("ws", HAPath), p.s.cfg.Trust.WireOptions(p.linkOptions()))
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		_ = c.Serve(ctx, wire.HandlerFunc(func(_ context.Context, c *wire.Conn, m wire.Message) { p.take(c, m) }))
	})
	defer c.Close()
	if err := p.s.cfg.Trust.Handshake(ctx, c, ep); err != nil {
		return err
	}
	p.s.mu.Lock()
	req := sessionRequest{Session: p.session, Hash: p.hash}
	p.s.mu.Unlock()
	var rep sessionReply
	if _, err := c.Request(ctx, wire.RequestHASession, req, &rep); err != nil {
		if we, ok := errors.AsType[*wire.Error](err); ok && we.Code == wire.CodeBadRequest {
			p.s.log.Error("HA: the primary refused the pair", "peer", ep.Name, "err", err)
		}
		return err
	}
	p.begin(c, rep.Session, rep.Restored)
	<-c.Done()
	p.end(c)
	return nil
}

// serveWire serves the backup's link on the primary.
func (p *pair) serveWire(w http.ResponseWriter, r *http.Request) {
	if p.s.cfg.Peer == nil || p.s.cfg.Backup {
		http.Error(w, "not the primary of a stat server pair", http.StatusNotFound)
		return
	}
	c, err := wire.Accept(w, r, p.linkOptions())
	if err != nil {
		return
	}
	guarded := p.s.cfg.Trust.Guard(c, r, []auth.Role{auth.RoleStatPeer}, func(auth.Identity) wire.Handler {
		return wire.HandlerFunc(func(_ context.Context, c *wire.Conn, m wire.Message) {
			if m.Name == wire.RequestHASession {
				p.accept(c, m)
				return
			}
			p.take(c, m)
		})
	})
	_ = c.Serve(r.Context(), guarded)
	p.end(c)
}

// accept opens or restores the session the backup asks for.
func (p *pair) accept(c *wire.Conn, m wire.Message) {
	var req sessionRequest
	if err := m.Bind(&req); err != nil {
		_ = c.ReplyError(m, err)
		return
	}
	if req.Hash != p.hash {
		p.s.log.Error("HA: the backup's statistic definitions differ from this primary's; not replicating",
			"primary", p.hash, "backup", req.Hash)
		_ = c.ReplyError(m, wire.Errorf(wire.CodeBadRequest, "statistic definitions differ (primary %s, backup %s)", p.hash, req.Hash))
		return
	}
	p.s.mu.Lock()
	exp := p.s.cfg.Options.HA.SessionExpirationPeriod
	restored := req.Session != "" && req.Session == p.session && p.s.now().Sub(p.cutAt) <= exp
	if !restored {
		p.session = rand.Text()
	}
	session := p.session
	p.s.mu.Unlock()
	_ = c.Reply(m, wire.EventHASession, sessionReply{Session: session, Restored: restored})
	p.begin(c, session, restored)
}

// begin makes c the link: without a restored session every open statistic
// is replicated, with one only those opened during the cut.
func (p *pair) begin(c *wire.Conn, session string, restored bool) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if p.link != nil {
		p.link.Close()
	}
	p.link, p.session = c, session
	if !restored {
		for _, def := range p.s.engine.Definitions() {
			p.pending[def] = true // the peer may have lost those it held for us
		}
	}
	p.sessions.WithLabelValues(boolText(restored)).Inc()
	p.debug("session", "session", session, "restored", restored, "to_replicate", len(p.pending))
	p.poke()
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// end forgets c as the link.
func (p *pair) end(c *wire.Conn) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if p.link == c {
		p.link, p.cutAt = nil, p.s.now()
		p.debug("link cut", "session", p.session)
	}
}

// chunkItem is one statistic in EventHAChunk.
type chunkItem struct {
	Definition stat.Definition `json:"statistic"`
	History    *stat.History   `json:"history,omitempty"` // nil for a current statistic
}

// chunkBody is the body of EventHAChunk.
type chunkBody struct {
	Position   int64       `json:"position"` // the sender's last applied event
	Statistics []chunkItem `json:"statistics"`
}

// pushLoop sends the pending statistics in chunks of chunk-size, one every
// chunk-timeout, while the link is up.
func (p *pair) pushLoop(ctx context.Context) {
	ha := p.s.cfg.Options.HA
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		}
		for p.pushChunk(ctx, ha.ChunkSize) {
			t := time.NewTimer(ha.ChunkTimeout)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// pushChunk sends the closed statistics and up to n pending ones, and
// reports whether more remain. What the peer does not acknowledge (the
// link was cut) stays pending, for the next session.
func (p *pair) pushChunk(ctx context.Context, n int) bool {
	link, gone, body := p.nextChunk(n)
	if link == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*p.s.cfg.Options.HA.ADDPRemoteTimeout)
	defer cancel()
	if len(gone) > 0 {
		if _, err := link.Request(ctx, wire.RequestHAClosed, closedBody{Statistics: gone}, nil); err != nil {
			p.requeue(gone, nil)
			return false
		}
	}
	if len(body.Statistics) == 0 {
		return false
	}
	_, err := link.Request(ctx, wire.RequestHAChunk, body, nil)
	if err != nil {
		p.requeue(nil, body.Statistics)
	} else {
		p.sent.Add(float64(len(body.Statistics)))
		p.debug("chunk sent", "statistics", len(body.Statistics), "position", body.Position)
	}
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	p.sending -= len(body.Statistics)
	return err == nil && len(p.pending) > 0
}

// nextChunk takes the closed statistics and up to n pending ones out of
// their sets, with the link to send them on (nil: none).
func (p *pair) nextChunk(n int) (*wire.Conn, []stat.Definition, chunkBody) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if p.link == nil {
		return nil, nil, chunkBody{}
	}
	gone := sortedDefs(p.gone)
	clear(p.gone)
	defs := sortedDefs(p.pending)
	body := chunkBody{Position: p.s.engine.LastEventID()}
	for _, def := range defs[:min(n, len(defs))] {
		item := chunkItem{Definition: def}
		if h, ok := p.s.engine.History(def); ok {
			item.History = &h
		}
		body.Statistics = append(body.Statistics, item)
		delete(p.pending, def)
	}
	p.sending += len(body.Statistics)
	return p.link, gone, body
}

// requeue puts back what a cut link did not deliver, unless it changed
// since (closed again, or opened again).
func (p *pair) requeue(gone []stat.Definition, items []chunkItem) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	for _, def := range gone {
		if !p.s.engine.IsOpen(def) {
			p.gone[def] = true
		}
	}
	for _, it := range items {
		if p.s.engine.IsOpen(it.Definition) {
			p.pending[it.Definition] = true
		}
	}
}

func sortedDefs(m map[stat.Definition]bool) []stat.Definition {
	defs := slices.Collect(maps.Keys(m))
	slices.SortFunc(defs, stat.CompareDefinitions)
	return defs
}

// take applies a request of the peer, statistics it opened (with their
// aggregates) or closed, and acknowledges it.
func (p *pair) take(c *wire.Conn, m wire.Message) {
	switch m.Name {
	case wire.RequestHAChunk:
		var body chunkBody
		if err := m.Bind(&body); err != nil {
			_ = c.ReplyError(m, err)
			return
		}
		p.adopt(body)
	case wire.RequestHAClosed:
		var body closedBody
		if err := m.Bind(&body); err != nil {
			_ = c.ReplyError(m, err)
			return
		}
		p.drop(body.Statistics)
	default:
		_ = c.ReplyError(m, wire.Errorf(wire.CodeNotAllowed, "%s is not a stat server HA request", m.Name))
		return
	}
	_ = c.Reply(m, wire.EventAck, nil)
}

// closedBody is the body of RequestHAClosed.
type closedBody struct {
	Statistics []stat.Definition `json:"statistics"`
}

// drop releases the statistics held for the peer that it closed.
func (p *pair) drop(defs []stat.Definition) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	for _, def := range defs {
		if p.peers[def] {
			delete(p.peers, def)
			_ = p.s.engine.Close(def)
		}
	}
}

// adopt opens the peer's statistics here (or merges their aggregates
// into those open here already), holding them for the peer.
func (p *pair) adopt(body chunkBody) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	now := p.s.now()
	for _, it := range body.Statistics {
		if p.peers[it.Definition] {
			if it.History != nil {
				p.s.engine.Merge(it.Definition, *it.History, body.Position, now)
			}
			continue
		}
		var err error
		if it.History != nil {
			_, err = p.s.engine.Adopt(it.Definition, *it.History, body.Position, now)
		} else {
			_, err = p.s.engine.Open(it.Definition, now)
		}
		if err != nil {
			p.s.log.Warn("HA: a statistic of the peer cannot be opened here", "statistic", it.Definition, "err", err)
			continue
		}
		p.peers[it.Definition] = true
	}
	p.received.Add(float64(len(body.Statistics)))
	p.debug("chunk received", "statistics", len(body.Statistics), "position", body.Position)
}

// close closes the link at shutdown.
func (p *pair) close() {
	p.s.mu.Lock()
	link := p.link
	p.s.mu.Unlock()
	if link != nil {
		link.Close()
	}
}

// settled reports whether nothing waits to be replicated or acknowledged.
func (p *pair) settled() bool {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	return len(p.pending) == 0 && p.sending == 0
}

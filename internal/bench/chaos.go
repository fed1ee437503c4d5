package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// Chaos kills a chat server every Every during the measured window, as
// `parley bench --chaos EVERY` does.
type Chaos struct {
	Every time.Duration
	// Kill SIGKILLs one chat server, has it come back as `parley up` would,
	// and returns its name and when the signal was sent. It is called from
	// one goroutine at a time.
	Kill func(ctx context.Context) (victim string, at time.Time, err error)
	// StuckAfter is how long a chat whose chat server was killed has to
	// continue (an acknowledged send) or end (its agent's close) before it
	// counts as stuck; zero takes DefaultStuckAfter.
	StuckAfter time.Duration
}

// DefaultStuckAfter is Chaos.StuckAfter's default: a client retrying at
// its own pace has long had its chat back by then.
const DefaultStuckAfter = 30 * time.Second

// followPace spaces an agent's look-ups of its chat's new location.
const followPace = 250 * time.Millisecond

func (c *Chaos) stuckAfter() time.Duration {
	if c.StuckAfter > 0 {
		return c.StuckAfter
	}
	return DefaultStuckAfter
}

// ChaosStats are a chaos run's figures (Step.Chaos).
type ChaosStats struct {
	EveryS float64 `json:"every_s"`
	Kills  int64   `json:"kills"`
	// Victims names each kill's chat server, in order.
	Victims []string `json:"victims"`
	// Affected counts the chats open on a chat server when it was killed;
	// Restore is, for each, the time from the kill to the chat's first
	// acknowledged send (customer's or agent's) begun after it.
	Affected int64   `json:"affected"`
	Restore  Latency `json:"restore"`
	// Stuck counts the affected chats that neither continued nor ended
	// within StuckAfter of the kill; Ghost the chats whose customer was
	// told the chat had ended while its agent had not ended it.
	Stuck       int64   `json:"stuck"`
	Ghost       int64   `json:"ghost"`
	StuckAfterS float64 `json:"stuck_after_s"`
	// Rejoins counts the agents that found their chat's new chat server
	// and rejoined it as the same party.
	Rejoins int64 `json:"rejoins"`
}

// chaosRun is the state of the kills of one step. Its methods are safe for
// concurrent use.
type chaosRun struct {
	cfg      *Chaos
	live     sync.Map // *session -> struct{}: sessions with their agent joined
	restore  Histogram
	kills    atomic.Int64
	affected atomic.Int64
	stuck    atomic.Int64
	ghost    atomic.Int64
	rejoins  atomic.Int64
	http     *http.Client

	mu      sync.Mutex // guards victims
	victims []string
}

func newChaosRun(cfg *Chaos) *chaosRun {
	if cfg == nil {
		return nil
	}
	return &chaosRun{cfg: cfg, http: &http.Client{Timeout: 5 * time.Second}}
}

// loop kills a chat server every Every until ctx ends.
func (c *chaosRun) loop(ctx context.Context, st *stats) {
	t := time.NewTicker(c.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		victim, at, err := c.cfg.Kill(ctx)
		if err != nil {
			if ctx.Err() == nil {
				st.fail("chaos-kill", err)
			}
			continue
		}
		c.killed(victim, at)
	}
}

// killed marks every live session whose agent was on victim as affected.
func (c *chaosRun) killed(victim string, at time.Time) {
	c.kills.Add(1)
	c.mu.Lock()
	c.victims = append(c.victims, victim)
	c.mu.Unlock()
	c.live.Range(func(k, _ any) bool {
		if k.(*session).hit(victim, at) {
			c.affected.Add(1)
		}
		return true
	})
}

// stats returns the figures so far.
func (c *chaosRun) stats() *ChaosStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &ChaosStats{EveryS: c.cfg.Every.Seconds(), Kills: c.kills.Load(), Victims: slices.Clone(c.victims),
		Affected: c.affected.Load(), Restore: c.restore.Summary(), Stuck: c.stuck.Load(), Ghost: c.ghost.Load(),
		StuckAfterS: c.cfg.stuckAfter().Seconds(), Rejoins: c.rejoins.Load()}
}

// hit marks s as affected by the kill of victim at at, when its agent is
// joined there and it is not already waiting for an earlier kill.
func (s *session) hit(victim string, at time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.agentAt != victim || !s.killedAt.IsZero() || s.closed {
		return false
	}
	s.killedAt = at
	return true
}

// continued records an acknowledged send begun at start: the first after a
// kill that hit the session is its restore time.
func (s *session) continued(start time.Time) {
	c := s.r.chaos
	if c == nil {
		return
	}
	s.mu.Lock()
	at := s.killedAt
	if at.IsZero() || start.Before(at) {
		s.mu.Unlock()
		return
	}
	s.killedAt = time.Time{}
	s.mu.Unlock()
	d := time.Since(at)
	c.restore.Record(d)
	if d > c.cfg.stuckAfter() {
		c.stuck.Add(1) // it did continue, but too late
	}
}

// ended records the end of the session: the agent's close succeeded or
// not; an affected session that did not continue and could not be closed
// is stuck.
func (s *session) ended(closed bool) {
	c := s.r.chaos
	if c == nil {
		return
	}
	c.live.Delete(s)
	s.mu.Lock()
	at := s.killedAt
	s.closed, s.killedAt = true, time.Time{}
	s.mu.Unlock()
	if !at.IsZero() && (!closed || time.Since(at) > c.cfg.stuckAfter()) {
		c.stuck.Add(1)
	}
}

// checkGhost counts the session a ghost the first time its customer is told
// the chat ended while its agent had not closed it.
func (s *session) checkGhost() {
	c := s.r.chaos
	e, ok := s.cust.(interface{ chatEnded() bool })
	if c == nil || !ok || !e.chatEnded() {
		return
	}
	s.mu.Lock()
	ghost := !s.closed && !s.releasing && !s.ghost
	s.ghost = s.ghost || ghost
	s.mu.Unlock()
	if ghost {
		c.ghost.Add(1)
	}
}

// custEnded reports whether the customer was told the chat ended.
func (s *session) custEnded() bool {
	e, ok := s.cust.(interface{ chatEnded() bool })
	return ok && e.chatEnded()
}

// releasingEnded reports whether the agent asked to close the chat and the
// customer was told it ended: the close took effect though its reply was
// lost.
func (s *session) releasingEnded() bool {
	s.mu.Lock()
	r := s.releasing
	s.mu.Unlock()
	return r && s.custEnded()
}

// follow is the agent desktop of s after its chat server went away: it asks
// the chat servers where the chat lives, at a desktop's pace, and rejoins
// it there as the same party, taking the events it missed from the reply.
// It gives up after StuckAfter.
//
// The customer is another person, who does not wait for the agent: between
// look-ups the customer goes on polling at its pace (s.wait), since it is
// the customer's next request that has the web API restore the chat; until
// then the store still names the killed chat server, and no rejoin can
// succeed. (Waiting without polling, as follow once did, held the restore
// back until the follow gave up: the stuck chats of the first chaos runs.)
func (s *session) follow() bool {
	c := s.r.chaos
	ctx, cancel := context.WithTimeout(s.r.hard, c.cfg.stuckAfter())
	defer cancel()
	names := slices.Sorted(maps.Keys(s.r.cfg.ChatServers))
	for {
		if s.releasingEnded() {
			return false // the agent's close went through: nothing to follow
		}
		for _, at := range names {
			owner, err := c.location(ctx, s.r.cfg, at, s.chatID())
			if err != nil || owner == "" {
				continue
			}
			if s.rejoin(ctx, owner) == nil {
				c.rejoins.Add(1)
				return true
			}
			break // the owner has not restored it yet: ask again later
		}
		if !s.wait(ctx, followPace) {
			return false
		}
	}
}

// rejoin joins the agent of s again, as its party, on chat server owner.
func (s *session) rejoin(ctx context.Context, owner string) error {
	conn, err := s.r.agents.pool.conn(ctx, owner, s.slot)
	if err != nil {
		return err
	}
	s.mu.Lock()
	body := rejoinBody{SessionID: s.id, UserID: s.agentID, SecureKey: s.agentKey}
	s.mu.Unlock()
	var j joined
	if err := wireRequest(ctx, conn, wire.RequestJoin, body, &j); err != nil {
		return err
	}
	s.mu.Lock()
	s.agent, s.agentAt = conn, owner
	s.mu.Unlock()
	s.catchUp(j.Messages, "Client", s.toAgent)
	return nil
}

// rejoinBody is RequestJoin of a party rejoining a restored chat.
type rejoinBody struct {
	SessionID string `json:"sessionId"`
	UserID    string `json:"userId"`
	SecureKey string `json:"secureKey"`
}

// catchUp takes the events a rejoin's reply replays: those the receiver
// already had are not duplicates, and the others are counted received
// without a latency (they waited for the rejoin, not for the chat server).
func (s *session) catchUp(evs []event, from string, tr *tracker) {
	for _, e := range evs {
		if e.Type != "Message" || e.From.Type != from {
			continue
		}
		if seq, _, ok := parseText(e.Text); ok && tr.catchUp(seq) {
			s.r.st.received.Add(1)
		}
	}
}

// location asks chat server at where session id lives, signed as the
// generator's web API.
func (c *chaosRun) location(ctx context.Context, cfg Config, at, id string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+cfg.ChatServers[at]+"/sessions/"+id+"/location", nil)
	if err != nil {
		return "", err
	}
	if cfg.Credentials != nil {
		cfg.Credentials.Key.SignRequest(req, cfg.Credentials.Name, at, time.Now())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("bench: location of %s at %s: HTTP %d", id, at, resp.StatusCode)
	}
	var loc struct{ Owner string }
	return loc.Owner, json.NewDecoder(resp.Body).Decode(&loc)
}

// cause names what made a request fail, for the failures by cause: the
// Chat API error code, the wire error code, a timeout, or the transport.
func cause(err error) string {
	var api *apiError
	var we *wire.Error
	switch {
	case errors.As(err, &api) && api.code != 0:
		return strconv.Itoa(api.code)
	case errors.As(err, &api):
		return "status " + strconv.Itoa(api.status)
	case errors.As(err, &we):
		return strconv.Itoa(int(we.Code))
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	default:
		return "transport"
	}
}

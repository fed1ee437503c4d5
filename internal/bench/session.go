package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// checkPace is how often a session ending looks for the deliveries it still
// waits for.
const checkPace = 20 * time.Millisecond

// session is one active session of a slot, from the customer's request to
// the agent's close: the seed's scenario.
type session struct {
	r                   *runner
	slot                int
	toAgent, toCustomer *tracker
	cust                customer
	pollTimer           *time.Timer // REST only

	mu       sync.Mutex // guards the fields below
	id       string
	agent    *wire.Conn
	agentID  string
	agentKey string    // the agent party's secure key, for a rejoin
	agentAt  string    // the chat server the agent is joined on
	killedAt time.Time // when the agent's chat server was killed, until the chat continues
	closed   bool      // the session ended
	// releasing: the agent asked to close the chat; a close whose reply
	// was lost with its connection may have taken effect.
	releasing bool
	ghost     bool // counted as a ghost
}

func newSession(r *runner, slot int) *session {
	n := r.cfg.Messages
	return &session{r: r, slot: slot, toAgent: newTracker(n), toCustomer: newTracker(n)}
}

func (s *session) chatID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// run plays the session; it returns false when the chat could not be
// opened, so that the slot pauses before the next attempt.
func (s *session) run() bool {
	st := s.r.st
	if err := s.open(); err != nil {
		st.fail("request-chat", err)
		return false
	}
	defer s.cust.close()
	st.open.Add(1)
	defer st.open.Add(-1)
	if err := s.join(); err != nil {
		st.fail("join", err)
		return false
	}
	defer s.r.agents.forget(s.chatID())
	if s.r.chaos != nil {
		s.r.chaos.live.Store(s, struct{}{})
	}
	s.talk()
	s.drain()
	s.ended(s.release())
	st.lost.Add(int64(s.toAgent.missing() + s.toCustomer.missing()))
	st.completed.Add(1)
	return true
}

// open requests the chat as a customer of the run's transport.
func (s *session) open() error {
	r := s.r
	c, err := r.openCustomer(r.hard, r.cfg.Dormant+s.slot, chatRequest{nickname: fmt.Sprintf("customer %d", s.slot),
		subject: "bench"}, s.customerEvents)
	if err != nil {
		return err
	}
	s.cust = c
	if !r.cfg.Transport.pushed() {
		// A random phase, so that polls spread evenly over the interval.
		s.pollTimer = time.NewTimer(rand.N(r.cfg.Poll))
	}
	s.mu.Lock()
	s.id = c.chat().id
	s.mu.Unlock()
	return nil
}

// join adds the agent on the chat server named by the chat's alias.
func (s *session) join() error {
	alias := s.cust.chat().alias
	c, j, err := s.r.agents.join(s.r.hard, s, alias)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.agent, s.agentID, s.agentKey, s.agentAt = c, j.UserID, j.SecureKey, alias
	s.mu.Unlock()
	return nil
}

// talk alternates the customer's and the agent's messages, Think apart,
// then waits one more Think, until the window ends.
func (s *session) talk() {
	think := s.r.cfg.think()
	for k := 1; k <= 2*s.r.cfg.Messages; k++ {
		if !s.wait(s.r.soft, think) {
			return
		}
		if k%2 == 1 {
			s.customerSends((k + 1) / 2)
		} else {
			s.agentSends(k / 2)
		}
	}
	s.wait(s.r.soft, think)
}

func (s *session) customerSends(seq int) {
	start := time.Now()
	err := s.cust.send(s.r.hard, messageText(seq, start))
	s.r.st.request(time.Since(start))
	s.checkGhost()
	if err != nil {
		s.r.st.fail("send", err)
		return
	}
	s.toAgent.ack(seq)
	s.r.st.sentOne()
	s.continued(start)
}

// agentSends sends the agent's message seq; when it fails under chaos, the
// agent follows its chat to its new chat server, and the next message goes
// there.
func (s *session) agentSends(seq int) {
	if err := s.agentGone(); err != nil {
		s.r.st.fail("agent-send", err)
		return
	}
	start := time.Now()
	conn, body := s.agentConn(messageText(seq, start))
	if err := wireRequest(s.r.hard, conn, wire.RequestMessage, body, nil); err != nil {
		s.r.st.fail("agent-send", err)
		if s.r.chaos != nil {
			s.follow()
		}
		return
	}
	s.toCustomer.ack(seq)
	s.r.st.sentOne()
	s.continued(start)
}

// agentGone is, under chaos, the desktop that saw its connection close: it
// follows the chat before the agent's next request rather than sending it
// on the dead connection first. It returns the connection's error when the
// chat could not be followed.
func (s *session) agentGone() error {
	if s.r.chaos == nil {
		return nil
	}
	conn, _ := s.agentConn("")
	err := conn.Err()
	if err == nil || s.follow() {
		return nil
	}
	return err
}

// agentConn returns the agent's connection and a request of its party
// with text.
func (s *session) agentConn(text string) (*wire.Conn, partyBody) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.agent, partyBody{SessionID: s.id, UserID: s.agentID, Text: text}
}

// wait waits d, polling when a poll is due, and reports false when ctx
// ended first.
func (s *session) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return true
		case <-s.pollDue():
			s.poll()
		case <-ctx.Done():
			return false
		}
	}
}

// pollDue is the REST poll timer's channel; nil (never ready) over CometD.
func (s *session) pollDue() <-chan time.Time {
	if s.pollTimer == nil {
		return nil
	}
	return s.pollTimer.C
}

func (s *session) poll() {
	start := time.Now()
	err := s.cust.poll(s.r.hard)
	s.r.st.request(time.Since(start))
	s.checkGhost()
	if err != nil {
		s.r.st.fail("refresh", err)
	}
	s.pollTimer.Reset(s.r.cfg.Poll)
}

// drain waits, polling on, until every acknowledged message has arrived or
// the grace period passes: what is still missing then is lost.
func (s *session) drain() {
	ctx, cancel := context.WithTimeout(s.r.hard, s.r.grace())
	defer cancel()
	for s.toAgent.missing()+s.toCustomer.missing() > 0 && s.wait(ctx, checkPace) {
	}
}

// release has the agent close the chat for everyone, and reports whether
// it did; under chaos an agent whose chat server went away follows the
// chat and tries once more.
func (s *session) release() bool {
	if s.pollTimer != nil {
		defer s.pollTimer.Stop()
	}
	if err := s.agentGone(); err != nil {
		s.r.st.fail("release", err)
		return false
	}
	for try := 0; ; try++ {
		conn, body := s.agentConn("")
		body.AfterAction = "ForceClose"
		s.mu.Lock()
		s.releasing = true
		s.mu.Unlock()
		err := wireRequest(s.r.hard, conn, wire.RequestReleaseParty, body, nil)
		if err == nil {
			return true
		}
		s.r.st.fail("release", err)
		if s.r.chaos == nil || try > 0 {
			return false
		}
		if !s.follow() {
			// The close may have taken effect before its connection
			// went: the customer, still polling, was told so.
			return s.custEnded()
		}
	}
}

// agentEvents takes events pushed to the agent: the customer's messages.
func (s *session) agentEvents(evs []event) { s.receive(evs, "Client", s.toAgent, true) }

// customerEvents takes events the customer received: the agent's messages.
func (s *session) customerEvents(evs []event) { s.receive(evs, "Agent", s.toCustomer, false) }

func (s *session) receive(evs []event, from string, tr *tracker, toAgent bool) {
	now := time.Now()
	for _, e := range evs {
		if e.Type != "Message" || e.From.Type != from {
			continue
		}
		seq, sent, ok := parseText(e.Text)
		if !ok {
			continue
		}
		dup, reordered := tr.receive(seq)
		switch {
		case dup:
			s.r.st.duplicated.Add(1)
		case reordered:
			s.r.st.reorder.Add(1)
			fallthrough
		default:
			s.r.st.delivered(now.Sub(sent), toAgent)
		}
	}
}

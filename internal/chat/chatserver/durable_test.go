package chatserver_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// heldCommit is a transcript store whose commits (Append) wait at its door
// while it is held, and go through once it is released, or fail with the
// error it was released with (and so do the later ones, until the next
// hold).
type heldCommit struct {
	transcript.Store
	mu      sync.Mutex    // guards gate and err
	gate    chan struct{} // closed on release; nil while not held
	err     error
	entered chan struct{} // a value for each Append that waits at the door
}

func newHeldCommit() *heldCommit { return &heldCommit{entered: make(chan struct{}, 64)} }

func (h *heldCommit) wrap(s transcript.Store) transcript.Store { h.Store = s; return h }

func (h *heldCommit) Append(ctx context.Context, id string, epoch int64, events []transcript.Event) error {
	h.mu.Lock()
	gate := h.gate
	h.mu.Unlock()
	if gate != nil {
		h.entered <- struct{}{}
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	h.mu.Lock()
	err := h.err
	h.mu.Unlock()
	if err != nil {
		return err
	}
	return h.Store.Append(ctx, id, epoch, events)
}

// hold makes the next commits wait at the door, until release or the end
// of the test.
func (h *heldCommit) hold(t *testing.T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	gate := make(chan struct{})
	h.gate, h.err = gate, nil
	t.Cleanup(func() { // a failed test does not leave the server's stop waiting on it
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.gate == gate {
			close(gate)
			h.gate = nil
		}
	})
}

// release lets the waiting commits and the next ones go on: through, or
// failing with err when it is not nil.
func (h *heldCommit) release(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.err = err
	close(h.gate)
	h.gate = nil
}

// waitEntered waits until a commit waits at the door.
func (h *heldCommit) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-h.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no commit reached the store")
	}
}

// sendAsync sends a message request on p and returns where its answer
// comes: nil for an acknowledgement (EventStatus), else the error.
func sendAsync(p *peer, body map[string]any) <-chan error {
	acked := make(chan error, 1)
	go func() {
		_, err := p.do(wire.RequestMessage, body)
		acked <- err
	}()
	return acked
}

// flush makes a round trip on each peer's connection that the chat server
// answers at once, on no session: a connection writes in order, so every
// reply and push the server queued to it before has been received (and its
// push recorded) when it returns.
func flush(t *testing.T, peers ...*peer) {
	t.Helper()
	for _, p := range peers {
		_, err := p.do(wire.RequestMessage, map[string]any{"sessionId": "NOPE", "userId": "x", "secureKey": "y", "text": "probe"})
		if wireCode(err) != wire.CodeNoSuchSession {
			t.Fatalf("probe: err = %v, want code %d", err, wire.CodeNoSuchSession)
		}
	}
}

// notAcked fails t when the answer to a request came: its commit is held.
// A connection's replies come in order (flush), but the requester's
// goroutine may take a moment to pick a reply up: a short look is enough,
// since an early acknowledgement is already received by then.
func notAcked(t *testing.T, what string, acked <-chan error) {
	t.Helper()
	select {
	case err := <-acked:
		t.Fatalf("%s answered (err %v) while its commit is held", what, err)
	case <-time.After(100 * time.Millisecond):
	}
}

func pushedText(p *peer, text string) bool {
	return slices.ContainsFunc(p.pushed(), func(m transcript.APIMessage) bool { return m.Text == text })
}

// TestNoAckBeforeCommit holds the store's commit while a customer, then an
// agent, sends a message: neither the sender's acknowledgement nor any push
// of the message leaves while the commit is held; all of them arrive once
// it returns.
func TestNoAckBeforeCommit(t *testing.T) {
	hc := newHeldCommit()
	h := start(t, defaultOptions(t), hc.wrap)
	c := h.login(h.dial(chatserver.FlexPath))
	c.must(wire.RequestSubscribe, c.ref(nil))
	agent := h.dial(chatserver.BasicPath)
	joined := h.joinAgent(agent, c.sessionID, nil)
	fromAgent := map[string]any{"sessionId": c.sessionID, "userId": joined.UserID}
	everyone := []*peer{c.peer, agent}
	for _, tt := range []struct {
		sender string
		p      *peer
		body   map[string]any
		text   string
	}{
		{"customer", c.peer, c.ref(map[string]any{"text": "from the customer"}), "from the customer"},
		{"agent", agent, with(fromAgent, "text", "from the agent"), "from the agent"},
	} {
		hc.hold(t)
		acked := sendAsync(tt.p, tt.body)
		hc.waitEntered(t)
		flush(t, everyone...)
		notAcked(t, "the "+tt.sender+"'s message", acked)
		for _, p := range everyone {
			if pushedText(p, tt.text) {
				t.Fatalf("the %s's message was pushed while its commit is held", tt.sender)
			}
		}
		hc.release(nil)
		if err := <-acked; err != nil {
			t.Fatalf("the %s's message after its commit: %v", tt.sender, err)
		}
		for _, p := range everyone {
			p.waitPush("the "+tt.sender+"'s message after its commit", func(m transcript.APIMessage, _ status) bool { return m.Text == tt.text })
		}
	}
	if got := strings.Join(messageTexts(t, h.ts, c.sessionID), "|"); got != "from the customer|from the agent" {
		t.Errorf("stored messages = %q", got)
	}
}

// TestFailedCommitNeverAcks fails a held commit: the sender is never
// acknowledged but gets 8212 (transcript-save-on-error decides what the
// session does next), and the message is not in the store. With
// "continue" the session goes on, and an agent's message fails alike.
func TestFailedCommitNeverAcks(t *testing.T) {
	for _, mode := range []string{"close", "continue"} {
		t.Run(mode, func(t *testing.T) {
			opts := defaultOptions(t)
			opts.Settings.TranscriptSaveOnError = mode
			opts.Settings.TranscriptResendAttempts = 0
			opts.Settings.TranscriptResendDelay = time.Minute // no retry of the pending events within the test
			hc := newHeldCommit()
			h := start(t, opts, hc.wrap)
			c := h.login(h.dial(chatserver.FlexPath))
			c.must(wire.RequestSubscribe, c.ref(nil))
			agent := h.dial(chatserver.BasicPath)
			joined := h.joinAgent(agent, c.sessionID, nil)

			failCommit(t, hc, c.peer, c.ref(map[string]any{"text": "never saved"}), agent)
			st := c.must(wire.RequestRefresh, c.ref(nil))
			if st.ChatEnded != (mode == "close") {
				t.Errorf("chatEnded = %t after a failed commit with transcript-save-on-error = %s", st.ChatEnded, mode)
			}
			if mode == "continue" {
				fromAgent := map[string]any{"sessionId": c.sessionID, "userId": joined.UserID, "text": "never saved either"}
				failCommit(t, hc, agent, fromAgent, c.peer)
			}
			snap, err := h.ts.Load(t.Context(), c.sessionID)
			if err != nil && !errors.Is(err, transcript.ErrNotFound) { // close: deleted once the session ended
				t.Fatal(err)
			}
			for _, e := range snap.Events {
				if strings.HasPrefix(e.Text, "never saved") {
					t.Errorf("%q is stored although its commit failed", e.Text)
				}
			}
		})
	}
}

// failCommit sends body from sender with the commit held, checks that
// nothing answers it meanwhile, then fails the commit: the sender must get
// 8212, never an acknowledgement.
func failCommit(t *testing.T, hc *heldCommit, sender *peer, body map[string]any, other *peer) {
	t.Helper()
	hc.hold(t)
	acked := sendAsync(sender, body)
	hc.waitEntered(t)
	flush(t, sender, other)
	notAcked(t, "the message", acked)
	hc.release(errors.New("commit failed"))
	if err := <-acked; wireCode(err) != wire.CodeStoreFailed {
		t.Fatalf("the sender of a message whose commit failed got %v, want code %d", err, wire.CodeStoreFailed)
	}
}

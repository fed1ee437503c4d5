package chatserver_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/partition"
	"github.com/parley-chat/parley/internal/store/postgres"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// failingStore fails every Append and Delete while it is down, as a database
// that went away, and records when each failed append came.
type failingStore struct {
	transcript.Store
	mu       sync.Mutex // guards isDown and attempts
	isDown   bool
	attempts []time.Time // failed appends since the last down(true)
}

func (f *failingStore) Append(ctx context.Context, id string, epoch int64, events []transcript.Event) error {
	f.mu.Lock()
	if f.isDown {
		f.attempts = append(f.attempts, time.Now())
		f.mu.Unlock()
		return errors.New("disk on fire")
	}
	f.mu.Unlock()
	return f.Store.Append(ctx, id, epoch, events)
}

func (f *failingStore) Delete(ctx context.Context, id string, epoch int64) error {
	f.mu.Lock()
	down := f.isDown
	f.mu.Unlock()
	if down {
		return errors.New("disk on fire")
	}
	return f.Store.Delete(ctx, id, epoch)
}

func (f *failingStore) down(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.isDown = down
	if down {
		f.attempts = nil
	}
}

func (f *failingStore) failed() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.attempts...)
}

// checkSpacing fails t unless each attempt came at least delay after the
// one before (transcript-resend-delay). Only a lower bound: a loaded machine
// may be slower, never faster.
func checkSpacing(t *testing.T, attempts []time.Time, delay time.Duration) {
	t.Helper()
	for i := 1; i < len(attempts); i++ {
		if gap := attempts[i].Sub(attempts[i-1]); gap < delay {
			t.Errorf("attempt %d came %v after the one before, less than transcript-resend-delay %v", i+1, gap, delay)
		}
	}
}

// messageTexts returns the texts of the stored messages, in order.
func messageTexts(t *testing.T, ts transcript.Store, id string) []string {
	t.Helper()
	snap, err := ts.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range snap.Events {
		if e.Type == transcript.Message {
			texts = append(texts, e.Text)
		}
	}
	return texts
}

// failingChat starts a chat server with opts over a failingStore, and a
// chat in it whose client is subscribed and whose agent has joined.
func failingChat(t *testing.T, opts config.ChatServerOptions) (h *harness, fs *failingStore, c client, agent *peer, joined status) {
	t.Helper()
	fs = &failingStore{}
	h = start(t, opts, func(s transcript.Store) transcript.Store { fs.Store = s; return fs })
	c = h.login(h.dial(chatserver.FlexPath))
	c.must(wire.RequestSubscribe, c.ref(nil))
	agent = h.dial(chatserver.BasicPath)
	joined = h.joinAgent(agent, c.sessionID, nil)
	return h, fs, c, agent, joined
}

func TestSaveFailureClosesSession(t *testing.T) {
	const delay = 20 * time.Millisecond
	opts := defaultOptions(t)
	opts.Settings.TranscriptResendAttempts = 2
	opts.Settings.TranscriptResendDelay = delay
	h, fs, c, agent, _ := failingChat(t, opts)

	fs.down(true)
	if _, err := c.do(wire.RequestMessage, c.ref(map[string]any{"text": "lost?"})); wireCode(err) != wire.CodeStoreFailed {
		t.Fatalf("err = %v, want code %d", err, wire.CodeStoreFailed)
	}
	attempts := fs.failed()
	if len(attempts) != 3 {
		t.Errorf("%d append attempts, want 1 + transcript-resend-attempts (2)", len(attempts))
	}
	checkSpacing(t, attempts, delay)

	// Every party is told at once: the server closed the session (reason 5).
	for _, p := range []*peer{c.peer, agent} {
		p.waitPush("the session closed by the server", func(m transcript.APIMessage, st status) bool {
			return st.ChatEnded && m.Type == transcript.ParticipantLeft && m.EventAttributes.System["quit-reason-code"] == "5"
		})
	}
	if st := c.must(wire.RequestRefresh, c.ref(nil)); !st.ChatEnded {
		t.Error("transcript-save-on-error=close did not close the session")
	}
	k := h.srv.KPI()
	if k["transcript_save_failed"] != 1 || k["session_fenced"] != 0 || k["sessions_current"] != 0 || k["session_closed"] != 1 {
		t.Errorf("kpi = %v", k)
	}
	if _, err := h.db.Contacts().Interaction(context.Background(), c.sessionID); !errors.Is(err, contact.ErrNotFound) {
		t.Errorf("a final transcript was saved after a save failure: %v", err)
	}

	// Its intermediate transcript could not be deleted: until it is, the
	// closed session stays, so that no request finds it missing and has it
	// restored alive elsewhere; once the store is back it is deleted.
	if _, err := fs.Store.Header(context.Background(), c.sessionID); err != nil {
		t.Fatalf("intermediate transcript while the store is down: %v", err)
	}
	if _, err := c.do(wire.RequestMessage, c.ref(map[string]any{"text": "anyone?"})); wireCode(err) != wire.CodeSessionClosed {
		t.Errorf("a message to the closed session: err = %v, want code %d", err, wire.CodeSessionClosed)
	}
	fs.down(false)
	eventually(t, "the intermediate transcript deleted", func() bool {
		_, err := fs.Store.Header(context.Background(), c.sessionID)
		return errors.Is(err, transcript.ErrNotFound)
	})
}

func TestSaveFailureContinue(t *testing.T) {
	const delay = 20 * time.Millisecond
	opts := defaultOptions(t)
	opts.Settings.TranscriptSaveOnError = "continue"
	opts.Settings.TranscriptAutoSave = 2
	opts.Settings.TranscriptResendAttempts = 1
	opts.Settings.TranscriptResendDelay = delay
	h, fs, c, agent, joined := failingChat(t, opts)
	c.must(wire.RequestMessage, c.ref(map[string]any{"text": "one"}))

	fs.down(true)
	for _, text := range []string{"two", "three"} {
		// Not acknowledged as saved: the sender learns the save is pending.
		if _, err := c.do(wire.RequestMessage, c.ref(map[string]any{"text": text})); wireCode(err) != wire.CodeStoreFailed {
			t.Fatalf("message %q while the store is down: err = %v, want code %d", text, err, wire.CodeStoreFailed)
		}
	}
	// The session goes on in memory: the agent sees the messages, and the
	// save failure (transcript-auto-save = 2).
	agent.waitPush("the message sent while the store is down", func(m transcript.APIMessage, _ status) bool { return m.Text == "three" })
	agent.waitPush("a ucs-save-fail notice", func(m transcript.APIMessage, _ status) bool {
		return m.Type == transcript.Notice && m.Text == "ucs-save-fail"
	})
	// Each message was tried 1 + transcript-resend-attempts times; then the
	// pending events are retried transcript-resend-delay apart with no
	// request: wait for two of those retries.
	eventually(t, "retries of the pending events", func() bool { return len(fs.failed()) >= 6 })
	attempts := fs.failed()
	checkSpacing(t, attempts[:2], delay)
	checkSpacing(t, attempts[2:], delay)
	if got := strings.Join(messageTexts(t, h.ts, c.sessionID), "|"); got != "one" {
		t.Fatalf("stored messages while the store is down = %q", got)
	}
	if k := h.srv.KPI(); k["transcript_save_failed"] != 2 || k["sessions_current"] != 1 {
		t.Errorf("kpi = %v", k)
	}

	// The store comes back: everything is saved once, in order, with no
	// request needed, and the agents are told.
	fs.down(false)
	eventually(t, "the pending events saved", func() bool {
		return strings.Join(messageTexts(t, h.ts, c.sessionID), "|") == "one|two|three"
	})
	agent.waitPush("a save notice after the pending events were saved", func(m transcript.APIMessage, _ status) bool {
		return m.Type == transcript.Notice && m.Text == "save"
	})
	agent.must(wire.RequestMessage, map[string]any{"sessionId": c.sessionID, "userId": joined.UserID, "text": "four"})
	if got := strings.Join(messageTexts(t, h.ts, c.sessionID), "|"); got != "one|two|three|four" {
		t.Errorf("stored messages = %q, want each once, in order", got)
	}
	// The customer is told too (issue 19, item 7).
	for _, notice := range []string{"ucs-save-fail", "save"} {
		c.waitPush("the "+notice+" notice to the customer", func(m transcript.APIMessage, _ status) bool {
			return m.Type == transcript.Notice && m.Text == notice
		})
	}
}

// TestPostgresOutage runs a chat server on PostgreSQL reached through a
// proxy that is cut for a while, for each value of transcript-save-on-error.
// The outage is logged once as the seed's event 59520 (UNAVAILABLE), and its
// end as 59521 (AVAILABLE).
func TestPostgresOutage(t *testing.T) {
	for _, mode := range []string{"continue", "close"} {
		t.Run(mode, func(t *testing.T) {
			dsn := storetest.PostgresDSN(t)
			u, err := url.Parse(dsn)
			if err != nil {
				t.Fatal(err)
			}
			proxy := partition.Start(t, u.Host)
			u.Host = proxy.Addr()
			q := u.Query()
			q.Set("connect_timeout", "2")
			u.RawQuery = q.Encode()
			db, err := postgres.Open(context.Background(), u.String())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			direct, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { direct.Close() })

			opts := defaultOptions(t)
			opts.Settings.TranscriptSaveOnError = mode
			opts.Settings.TranscriptResendAttempts = 1
			opts.Settings.TranscriptResendDelay = 20 * time.Millisecond
			logs := &logBuffer{}
			h := serve(t, chatserver.Config{Name: "chat-1", Options: opts, Transcripts: db.Transcripts(), Contacts: db.Contacts(),
				Logger: logs.logger()}, nil)
			defer checkStoreEvents(t, logs)
			c := h.login(h.dial(chatserver.FlexPath))
			c.must(wire.RequestMessage, c.ref(map[string]any{"text": "before"}))

			proxy.Cut()
			if _, err := c.do(wire.RequestMessage, c.ref(map[string]any{"text": "during"})); wireCode(err) != wire.CodeStoreFailed {
				t.Fatalf("message during the outage: err = %v, want code %d", err, wire.CodeStoreFailed)
			}
			proxy.Mend()

			if mode == "close" {
				if st := c.must(wire.RequestRefresh, c.ref(nil)); !st.ChatEnded {
					t.Error("the session outlived the outage")
				}
				return
			}
			eventually(t, "the pending message saved after the outage", func() bool {
				return strings.Join(messageTexts(t, direct.Transcripts(), c.sessionID), "|") == "before|during"
			})
			c.must(wire.RequestMessage, c.ref(map[string]any{"text": "after"}))
			if got := strings.Join(messageTexts(t, direct.Transcripts(), c.sessionID), "|"); got != "before|during|after" {
				t.Errorf("stored messages = %q, want each once, in order", got)
			}
		})
	}
}

// checkStoreEvents checks that one outage of the intermediate store was
// logged as one 59520 and one 59521, in that order.
func checkStoreEvents(t *testing.T, logs *logBuffer) {
	t.Helper()
	eventually(t, "event 59521", func() bool { return len(logs.lines("event=59521")) > 0 })
	down := logs.lines(`level=ERROR msg="intermediate transcript store status changed to \"UNAVAILABLE\": `, "event=59520")
	up := logs.lines(`level=INFO msg="intermediate transcript store status changed to \"AVAILABLE\""`, "event=59521")
	all := logs.lines("event=5952")
	if len(down) != 1 || len(up) != 1 || len(all) != 2 || all[0] != down[0] {
		t.Errorf("store status events %q, want one 59520 then one 59521", all)
	}
}

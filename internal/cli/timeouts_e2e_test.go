package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/url"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/store/storetest"
	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// agentEvents joins an agent to ch and returns the messages pushed to it.
func (c *cluster) agentEvents(ctx context.Context, ch *haChat) <-chan pushed {
	events := make(chan pushed, 256)
	web := c.web()
	conn := web.dial(ctx, c.t, c.url(ch.home, "ws", "/wire/basic"), ch.home, func(m wire.Message) {
		var st struct{ Messages []pushed }
		if json.Unmarshal(m.Body, &st) == nil {
			for _, p := range st.Messages {
				select {
				case events <- p:
				default:
				}
			}
		}
	})
	var st struct{ UserID string }
	join := map[string]any{"sessionId": ch.id, "nickname": "agent", "personId": "agent", "grant": web.grant("agent", ch.id)}
	if _, err := conn.Request(ctx, wire.RequestJoin, join, &st); err != nil {
		c.t.Fatal(err)
	}
	ch.agent, ch.agentID = conn, st.UserID
	return events
}

// pushed is a transcript event as an agent or a customer receives it.
type pushed struct {
	Type            string                `json:"type"`
	Text            string                `json:"text"`
	EventAttributes transcript.Attributes `json:"eventAttributes"`
	From            struct{ Type string } `json:"from"`
}

func (c *cluster) newChat() *haChat {
	c.t.Helper()
	env, err := c.rest("", url.Values{"nickname": {"Ann"}})
	if err != nil || env.StatusCode != 0 {
		c.t.Fatalf("request chat: %+v %v", env, err)
	}
	return &haChat{id: env.ChatID, user: env.UserID, key: env.SecureKey, alias: env.Alias, home: env.Alias, position: 1}
}

// waitEvent waits for an agent event matching ok.
func waitEvent(t *testing.T, events <-chan pushed, what string, ok func(pushed) bool) pushed {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case e := <-events:
			if ok(e) {
				return e
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func reason(e pushed) string { return e.EventAttributes.System["quit-reason-code"] }

// TestCustomerWhoStopsPollingIsRemoved: a REST customer polls a while, then
// goes away; the chat server removes it with reason 3 once the web API no
// longer confirms it (flex-push-timeout; the web API answers refreshes from
// its own buffer, so flex-disconnect-timeout alone would not see the polls).
//
// The customer polls from its own goroutine from the moment the chat exists,
// as a widget does: the agent's join (store commits, slow under load) must
// not hold its polls back, or it rightly counts as gone. Polls every 0.5 s
// against a 3 s rest-subscription-idle leave room for a stall of 2.5 s under
// CPU load, and polling for 4 s (more than that limit plus one check
// period) shows that the polls, not the limits' length, keep it in the chat.
// Once it stops, either the web API's answer to a check or its unsubscribe
// followed by flex-disconnect-timeout removes it, both with reason 3.
func TestCustomerWhoStopsPollingIsRemoved(t *testing.T) {
	c := startCluster(t, "sqlite", "flex-disconnect-timeout: 2, flex-push-timeout: 1", "rest-subscription-idle: 3")
	ch := c.newChat()
	stop := c.keepPolling(ch)
	events := c.agentEvents(t.Context(), ch)
	<-time.After(4 * time.Second) // how long the customer stays, not a wait for a condition
	last, err := stop()
	if err != nil {
		t.Fatalf("the customer was removed while it was polling: %v", err)
	}
	left := waitEvent(t, events, "the customer removed", func(e pushed) bool { return e.Type == "ParticipantLeft" && e.From.Type == "Client" })
	if reason(left) != "3" {
		t.Errorf("customer left with reason %q, want 3", reason(left))
	}
	t.Logf("customer removed %v after its last poll", time.Since(last).Round(time.Millisecond))
}

// keepPolling polls ch as its customer's widget does, every half second,
// until stop is called. stop returns when the last poll is over, with the
// time of the last answered poll and the error of a failed one (which ends
// the polling).
func (c *cluster) keepPolling(ch *haChat) (stop func() (time.Time, error)) {
	quit, done := make(chan struct{}), make(chan struct{})
	var last time.Time
	var err error
	go func() {
		defer close(done)
		for {
			if err = c.poll(ch); err == nil && ch.ended {
				err = errors.New("the chat ended")
			}
			if err != nil {
				return
			}
			last = time.Now()
			select {
			case <-quit:
				return
			case <-time.After(500 * time.Millisecond): // the customer's poll pace
			}
		}
	}()
	return func() (time.Time, error) {
		close(quit)
		<-done
		return last, err
	}
}

// TestInactiveChatIsClosed: with [inactivity-control], a chat in which
// nobody writes gets the alert, then is closed with reason 7; the customer
// sees both in its transcript, as IdleAlert and IdleClose.
func TestInactiveChatIsClosed(t *testing.T) {
	c := startCluster(t, "sqlite", "flex-disconnect-timeout: 60}, inactivity-control: {enabled: true, timeout-alert: 1, timeout-close: 1, message-alert: 'still there?', message-close: 'closed for inactivity'")
	ch := c.newChat()
	events := c.agentEvents(t.Context(), ch)
	waitEvent(t, events, "the chat closed for inactivity", func(e pushed) bool { return e.Type == "ParticipantLeft" && reason(e) == "7" })
	env, err := c.rest("/"+ch.id+"/refresh", ch.form("transcriptPosition", strconv.Itoa(1)))
	if err != nil {
		t.Fatal(err)
	}
	var notices []string
	for _, m := range env.Messages {
		if m.Type == "IdleAlert" || m.Type == "IdleClose" {
			notices = append(notices, m.Text)
		}
	}
	if len(notices) != 2 || notices[0] != "still there?" || notices[1] != "closed for inactivity" {
		t.Errorf("customer sees notices %q", notices)
	}
	if !env.ChatEnded {
		t.Error("chatEnded is false after the inactivity close")
	}
}

// dbIdle waits until no chat server is inside a write of the cluster's
// SQLite file and its WAL holds no frame left to copy, checkpointing it from
// here. A chat server stopped inside a write, or while its checkpoint copies
// frames, keeps a lock of the file that the other chat server's transactions
// wait on: that is a stopped process holding a lock, not the partition a
// test means. An idle chat server takes no such lock until it writes again.
func (c *cluster) dbIdle() {
	c.t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(c.dataDir, "parley.db"))
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	ctx := c.t.Context()
	settle.Eventually(c.t, 20*time.Second, "the SQLite file idle", func() bool {
		var busy, frames, copied int
		if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil ||
			busy != 0 || frames != copied {
			return false
		}
		conn, err := db.Conn(ctx)
		if err != nil {
			return false
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return false // a writer holds the lock
		}
		_, err = conn.ExecContext(ctx, "ROLLBACK")
		return err == nil
	})
}

// TestPartitionedOwnerAcceptsNothing: the owner of a chat is stopped
// (SIGSTOP: alive but unreachable, as in a network cut); the chat moves to
// the other chat server; when the old owner resumes, it refuses every
// further write for the chat with the fencing refusal (8211), learnt from
// the store, on SQLite and on PostgreSQL.
func TestPartitionedOwnerAcceptsNothing(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			db := "sqlite"
			if backend == "postgres" {
				db = storetest.PostgresDSN(t)
			}
			partitionOwner(t, startCluster(t, db, "session-restoration-mode: simple"), db)
		})
	}
}

// partitionOwner stops the owner of a new chat until the chat has moved,
// resumes it and checks that it refuses the agent's write with 8211.
func partitionOwner(t *testing.T, c *cluster, db string) {
	ch := c.newChat()
	c.agentEvents(t.Context(), ch)
	if db == "sqlite" {
		c.dbIdle()
	}
	old := ch.alias
	c.signal(old, syscall.SIGSTOP)
	resumed := false
	defer func() {
		if !resumed {
			c.signal(old, syscall.SIGCONT)
		}
	}()
	for try := 0; ch.alias == old && try < 5; try++ {
		env, err := c.rest("/"+ch.id+"/send", ch.form("message", "are you there?"))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("send while %s is stopped: %+v", old, env)
		if env.Alias != "" {
			ch.alias = env.Alias
		}
	}
	if ch.alias == old {
		t.Fatalf("the chat did not move off the stopped %s", old)
	}
	c.signal(old, syscall.SIGCONT)
	resumed = true
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := ch.agent.Request(ctx, wire.RequestMessage, map[string]any{"sessionId": ch.id, "userId": ch.agentID, "text": "split brain"}, nil)
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != wire.CodeStaleOwner {
		t.Fatalf("the resumed old owner answered %v, want the fencing refusal %d", err, wire.CodeStaleOwner)
	}
	if err := c.poll(ch); err != nil {
		t.Fatal(err)
	}
	for _, text := range ch.customerTexts() {
		if text == "split brain" {
			t.Error("the old owner's write reached the chat")
		}
	}
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/testenv"
)

// The chaos test's load and kills (issue 21).
const (
	chaosChats = 50
	chaosKills = 5
	// chaosEvery spaces the kills; chaosRestart is how long a killed chat
	// server stays down before it is started again, as up restarts a
	// dead child.
	chaosEvery   = 6 * time.Second
	chaosRestart = time.Second
	// chaosStuck bounds how long after the last kill every chat has to
	// have continued on both sides: past it, a chat is stuck.
	chaosStuck = 20 * time.Second
	chaosPace  = 400 * time.Millisecond // a client's and a desktop's pace
)

// TestChaosEndToEnd kills the chat servers of a running deployment five
// times, in turn, with SIGKILL, and starts each again a second later, while
// 50 chats talk (customers over REST, agents joined with grants on the wire,
// following their chat to its new chat server as a desktop does). Nothing
// may be lost, duplicated, stuck (a chat that has not continued on both
// sides within chaosStuck of the last kill) or ghost (a customer told its
// chat ended while nobody ended it): read from the contact store's final
// transcripts and the customers' views.
//
// The agents here join without an interaction server; that every agent
// on the desktop bridge gets its chats back after the interaction server's
// death is TestChaosAgentsKeepChatsAcrossSwitchover's.
func TestChaosEndToEnd(t *testing.T) {
	testenv.NeedLong(t, "a minute of chat-server kills")
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			db := backendDB(t, backend)
			c := startCluster(t, db, "session-restoration-mode: simple, transcript-auto-save: 1")
			runChaos(t, &chaos{cluster: c, restarted: map[string]*exec.Cmd{}}, db)
		})
	}
}

// chaos is the kills of the chaos test, and the chat servers it restarted.
type chaos struct {
	*cluster
	restarted map[string]*exec.Cmd // by the test's goroutine only

	mu    sync.Mutex // guards last and kills
	last  time.Time  // the last kill
	kills int

	rejoins atomic.Int64 // agents that followed their chat
}

func (k *chaos) lastKill() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.last
}

// kill SIGKILLs chat server name, waits until it is gone, and starts it
// again after chaosRestart with `parley run`, as up would; it returns once
// the new process is ready.
func (k *chaos) kill(name string) {
	t := k.t
	t.Helper()
	k.mu.Lock()
	k.last = time.Now()
	k.kills++
	k.mu.Unlock()
	if cmd := k.restarted[name]; cmd != nil {
		cmd.Process.Kill()
		cmd.Wait()
	} else {
		pidFile := filepath.Join(k.dataDir, "run", name+".pid")
		k.signal(name, syscall.SIGKILL)
		settle.Eventually(t, 10*time.Second, name+" reaped by up", func() bool {
			_, err := os.Stat(pidFile)
			return errors.Is(err, os.ErrNotExist)
		})
	}
	wait(t.Context(), chaosRestart) // the restart backoff being modelled, not a wait for a condition
	cmd := exec.Command(buildParley(t), "run", "--config", filepath.Join(filepath.Dir(k.dataDir), "parley.yaml"), "--app", name)
	cmd.Stdout, cmd.Stderr = k.out, k.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	k.restarted[name] = cmd
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	settle.Eventually(t, 30*time.Second, name+" ready again", func() bool {
		resp, err := http.Get(k.url(name, "http", "/healthz"))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// runChaos opens the chats, kills the chat servers in turn while they
// talk, and checks what every chat became.
func runChaos(t *testing.T, k *chaos, db string) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	all := make([]*haChat, chaosChats)
	parallel(t, chaosChats, func(i int) (err error) {
		all[i], err = k.openChat(ctx, i)
		return err
	})
	done := make(chan struct{})
	var trafficErr error
	go func() {
		defer close(done)
		trafficErr = gather(chaosChats, func(i int) error { return k.chaosConverse(ctx, all[i], i) })
	}()
	defer func() { cancel(); <-done }()
	start := time.Now()
	for n := range chaosKills {
		at := start.Add(time.Duration(n+1) * chaosEvery)
		if !wait(ctx, time.Until(at)) || isClosed(done) {
			break
		}
		k.kill([]string{"chat-1", "chat-2"}[n%2])
	}
	<-done
	if trafficErr != nil {
		t.Fatal(trafficErr)
	}
	checkTranscripts(t, db, k.dataDir, all)
	ghosts, failed, acked := 0, 0, 0
	for i, ch := range all {
		for _, a := range ch.attempts() {
			if a.acked {
				acked++
			} else {
				failed++
			}
		}
		if ch.ended {
			ghosts++
			t.Errorf("chat %d: ghost: its customer was told it ended before its agent ended it", i)
		}
	}
	t.Logf("%d chats, %d kills: %d messages acknowledged, %d sends failed, %d agent rejoins; %d ghost",
		chaosChats, chaosKills, acked, failed, k.rejoins.Load(), ghosts)
}

// chaosConverse is one chat through the kills: its customer and its agent
// send at a client's pace, failures allowed, until the last kill is behind
// them and each side has had a message acknowledged after it; then the
// customer catches up and the agent ends the chat. A chat that has not
// continued on both sides within chaosStuck of the last kill is stuck.
func (k *chaos) chaosConverse(ctx context.Context, ch *haChat, i int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	for _, side := range []func(context.Context, *haChat, int) error{k.chaosCustomer, k.chaosAgent} {
		go func() {
			err := side(ctx, ch, i)
			if err != nil {
				cancel()
			}
			errs <- err
		}()
	}
	if err := errors.Join(<-errs, <-errs); err != nil {
		return err
	}
	if ch.ended {
		return nil // a ghost: reported by runChaos
	}
	if err := k.catchUp(ctx, ch); err != nil {
		return err
	}
	return k.end(ctx, ch)
}

// settledSide reports whether every kill is behind and from's side of ch
// has had a message acknowledged since the last, and fails when that has
// not happened within chaosStuck of it.
func (k *chaos) settledSide(ch *haChat, from string) (bool, error) {
	if !k.killsDone() {
		return false, nil
	}
	last := k.lastKill()
	if ch.acked(from, last, "") > 0 {
		return true, nil
	}
	if time.Since(last) > chaosStuck {
		return false, fmt.Errorf("stuck: no %s message acknowledged within %v of the last kill", from, chaosStuck)
	}
	return false, nil
}

// killsDone reports whether every kill has happened.
func (k *chaos) killsDone() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.kills == chaosKills
}

// chaosCustomer sends and polls at a client's pace; a failure is followed
// by the next request, as a GMS client retries.
func (k *chaos) chaosCustomer(ctx context.Context, ch *haChat, i int) error {
	for n := 0; ; n++ {
		if ok, err := k.settledSide(ch, "customer"); ok || err != nil {
			return err
		}
		_ = k.say(ch, fmt.Sprintf("customer %d/%d", i, n))
		_ = k.poll(ch)
		if ch.ended {
			return nil
		}
		if !wait(ctx, chaosPace) {
			return ctx.Err()
		}
	}
}

// chaosAgent sends at a desktop's pace; after a failure it follows the
// chat to the chat server that holds it now.
func (k *chaos) chaosAgent(ctx context.Context, ch *haChat, i int) error {
	for n := 0; ; n++ {
		if ok, err := k.settledSide(ch, "agent"); ok || err != nil {
			return err
		}
		if err := ch.reply(ctx, fmt.Sprintf("agent %d/%d", i, n)); err != nil {
			k.chaosFollow(ctx, ch)
		}
		if !wait(ctx, chaosPace) {
			return ctx.Err()
		}
	}
}

// chaosFollow asks the chat servers where ch lives and rejoins it there as
// the same party, until that works or ctx ends.
func (k *chaos) chaosFollow(ctx context.Context, ch *haChat) {
	for {
		for _, at := range []string{"chat-1", "chat-2"} {
			owner, err := k.location(ch.id, at)
			if err != nil || owner == "" {
				continue
			}
			if k.join(ctx, ch, k.addrs[owner], map[string]any{"sessionId": ch.id, "userId": ch.agentID}) == nil {
				k.rejoins.Add(1)
				return
			}
			break
		}
		if !wait(ctx, followPace) {
			return
		}
	}
}

// wait waits d or until ctx ends, and reports whether d passed.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

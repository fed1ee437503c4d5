package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/testenv"
)

// cometdCustomerDir holds customer.mjs, a customer on the official CometD
// JavaScript client, and its pinned npm packages (the versions of
// internal/webapi/testdata/cometd-chat).
const cometdCustomerDir = "testdata/cometd-failover"

// requireCometdNode returns node after installing the pinned npm packages;
// without node or npm the test ends as testenv.Need says.
func requireCometdNode(t *testing.T) string {
	t.Helper()
	node := testenv.NeedCommand(t, "node")
	npm := testenv.NeedCommand(t, "npm")
	lock, errLock := os.Stat(filepath.Join(cometdCustomerDir, "package-lock.json"))
	mods, errMods := os.Stat(filepath.Join(cometdCustomerDir, "node_modules", ".package-lock.json"))
	if errLock == nil && errMods == nil && !mods.ModTime().Before(lock.ModTime()) {
		return node
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--prefer-offline")
	cmd.Dir = cometdCustomerDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
	return node
}

// jsLine is one line customer.mjs prints.
type jsLine struct {
	Event, Via, Text, Error          string
	ChatID, UserID, SecureKey, Alias string
	StatusCode                       int
	ChatEnded                        bool
	NextPosition                     int
	Messages                         []struct {
		Index            int
		Type, Text, From string
	}
}

// jsCustomer is customer.mjs running: a Chat API v2 customer on the
// official CometD client, on the web APIs it was given in turn.
type jsCustomer struct {
	in     io.WriteCloser
	exited chan struct{}
	out    *syncBuffer // everything it printed, for a failing test's log

	mu      sync.Mutex // guards the fields below
	chat    *jsLine    // its chat, once requested
	seen    []pushed   // every event delivered to it, in order
	by      map[string]string
	failed  map[string]string // the texts of failed sendMessages, with the error
	resumed []string          // the web APIs it resumed the chat on
	errs    []string          // what went wrong in the script
}

// startJSCustomer runs customer.mjs over transport ("websocket" or
// "long-polling") on the web APIs names, in that order, and waits for its
// chat; the process ends with the test.
func (c *cluster) startJSCustomer(ctx context.Context, node, transport string, names ...string) (*jsCustomer, error) {
	args := []string{"customer.mjs", transport, "customer-support"}
	for _, name := range names {
		args = append(args, name+"="+c.url(name, "http", "/genesys/cometd"))
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = cometdCustomerDir
	j := &jsCustomer{exited: make(chan struct{}), out: &syncBuffer{}, by: map[string]string{}, failed: map[string]string{}}
	cmd.Stderr = j.out
	var err error
	if j.in, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		j.read(stdout)
		cmd.Wait()
		close(j.exited)
	}()
	c.t.Cleanup(func() {
		j.in.Close()
		select {
		case <-j.exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-j.exited
		}
		if c.t.Failed() {
			c.t.Logf("customer.mjs over %s:\n%s", transport, j.out.String())
		}
	})
	if !settle.Poll(20*time.Second, func() bool { return j.started() || isClosed(j.exited) || ctx.Err() != nil }) || !j.started() {
		return nil, fmt.Errorf("customer.mjs over %s started no chat: %v", transport, j.problems())
	}
	return j, nil
}

// read records what the script prints until it exits.
func (j *jsCustomer) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fmt.Fprintf(j.out, "%s %s\n", time.Now().Format("15:04:05.000"), sc.Text())
		var l jsLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			continue
		}
		j.record(&l)
	}
}

func (j *jsCustomer) record(l *jsLine) {
	j.mu.Lock()
	defer j.mu.Unlock()
	switch l.Event {
	case "chat":
		j.chat = l
	case "env":
		for _, m := range l.Messages {
			j.seen = append(j.seen, pushed{Type: m.Type, Text: m.Text})
			if _, ok := j.by[m.Text]; !ok && m.Type == "Message" {
				j.by[m.Text] = l.Via
			}
		}
	case "failed":
		j.failed[l.Text] = l.Error
	case "resumed":
		j.resumed = append(j.resumed, l.Via)
	case "error":
		j.errs = append(j.errs, l.Error)
	}
}

func (j *jsCustomer) started() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.chat != nil
}

func (j *jsCustomer) problems() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.errs)
}

// haChat returns the chat as the test's bookkeeping knows it.
func (j *jsCustomer) haChat() *haChat {
	j.mu.Lock()
	defer j.mu.Unlock()
	return &haChat{id: j.chat.ChatID, user: j.chat.UserID, key: j.chat.SecureKey, alias: j.chat.Alias, home: j.chat.Alias, position: 1}
}

// say has the customer type text and waits for the outcome: the message
// delivered back to it, from the web API named in the result, or the
// publish failed (or went unanswered for wait).
func (j *jsCustomer) say(ctx context.Context, text string, wait time.Duration) (string, error) {
	if _, err := io.WriteString(j.in, text+"\n"); err != nil {
		return "", err
	}
	var via, failure string
	settle.Poll(wait, func() bool {
		j.mu.Lock()
		defer j.mu.Unlock()
		via, failure = j.by[text], j.failed[text]
		return via != "" || failure != "" || ctx.Err() != nil
	})
	switch {
	case via != "":
		return via, nil
	case failure != "":
		return "", fmt.Errorf("send %q: %s", text, failure)
	}
	return "", fmt.Errorf("send %q: no answer in %v", text, wait)
}

// saw reports whether text was delivered to the customer, and through
// which web API first.
func (j *jsCustomer) saw(text string) (string, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	via, ok := j.by[text]
	return via, ok
}

// events returns every event delivered to the customer.
func (j *jsCustomer) events() []pushed {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.seen)
}

// resumedOn returns the web APIs the customer resumed its chat on.
func (j *jsCustomer) resumedOn() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.resumed)
}

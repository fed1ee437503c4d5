package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/config"
)

// Timings of bench --chaos's kills.
const (
	// chaosRestartDelay is how long a killed chat server stays down before
	// it is started again: the first step of up's restart backoff.
	chaosRestartDelay = time.Second
	// chaosReapTimeout bounds the wait for a killed chat server to be
	// reaped (its pid file removed).
	chaosReapTimeout = 10 * time.Second
)

// chaosKiller kills the chat servers of a spawned deployment in turn, with
// SIGKILL, and starts each again after chaosRestartDelay, as up restarts a
// dead child: the same `parley run --app NAME` command line, its pid file in
// runDir, its output in the deployment's log. Kill is called from one
// goroutine at a time; stop from another once kills have ended.
type chaosKiller struct {
	runDir, file string
	names        []string // the chat servers, killed in this order
	command      func(args ...string) (*exec.Cmd, error)
	log          io.Writer

	next int // the index in names of the next victim

	mu       sync.Mutex // guards children
	children []*exec.Cmd
	reapers  sync.WaitGroup
}

func newChaosKiller(d *config.Deployment, runDir, file string, command func(...string) (*exec.Cmd, error), log io.Writer) *chaosKiller {
	var names []string
	for _, name := range d.Names() {
		if d.Applications[name].Type == config.ChatServer {
			names = append(names, name)
		}
	}
	return &chaosKiller{runDir: runDir, file: file, names: names, command: command, log: log}
}

// kill SIGKILLs the next chat server, waits until it is reaped, and starts
// it again after chaosRestartDelay; it returns the victim and when the
// signal was sent.
func (k *chaosKiller) kill(ctx context.Context) (string, time.Time, error) {
	name := k.names[k.next%len(k.names)]
	k.next++
	pidFile := filepath.Join(k.runDir, name+".pid")
	pid, err := readPID(pidFile)
	if err != nil {
		return name, time.Time{}, fmt.Errorf("bench: chaos: %w", err)
	}
	at := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return name, at, fmt.Errorf("bench: chaos: kill %s (pid %d): %w", name, pid, err)
	}
	fmt.Fprintf(k.log, "bench --chaos: %s (pid %d) killed with SIGKILL\n", name, pid)
	if err := awaitGone(ctx, pidFile); err != nil {
		return name, at, err
	}
	if !wait(ctx, chaosRestartDelay) {
		return name, at, ctx.Err()
	}
	return name, at, k.start(name, pidFile)
}

// awaitGone waits until the reaper of a killed process removed its pid
// file, so that the restarted one's is not removed after it is written.
func awaitGone(ctx context.Context, pidFile string) error {
	ctx, cancel := context.WithTimeout(ctx, chaosReapTimeout)
	defer cancel()
	for {
		if _, err := os.Stat(pidFile); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if !wait(ctx, pollInterval) {
			return fmt.Errorf("bench: chaos: %s still there after the kill: %w", pidFile, ctx.Err())
		}
	}
}

// start runs chat server name again, writes its pid file, and reaps it.
func (k *chaosKiller) start(name, pidFile string) error {
	cmd, err := k.command("run", "--config", k.file, "--app", name)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = k.log, k.log
	cmd.SysProcAttr = childAttr()
	cmd.WaitDelay = outputDelay
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("bench: chaos: restart %s: %w", name, err)
	}
	fmt.Fprintf(k.log, "bench --chaos: %s restarted (pid %d)\n", name, cmd.Process.Pid)
	k.mu.Lock()
	k.children = append(k.children, cmd)
	k.mu.Unlock()
	pidErr := writePID(pidFile, cmd.Process.Pid)
	k.reapers.Go(func() {
		_ = cmd.Wait()
		if pid, err := readPID(pidFile); err == nil && pid == cmd.Process.Pid {
			_ = removeFile(pidFile)
		}
	})
	return pidErr
}

// stop stops the chat servers kill restarted, with SIGTERM, and waits for
// them.
func (k *chaosKiller) stop() {
	k.mu.Lock()
	for _, cmd := range k.children {
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	k.mu.Unlock()
	k.reapers.Wait()
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

// benchSchema gives a spawned deployment on PostgreSQL a schema of its own
// in the database dsn names, so that a run starts from an empty store and
// leaves nothing in the database: it returns dsn with that schema as its
// search_path, and what drops the schema.
func benchSchema(ctx context.Context, dsn string) (string, func(), error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "parley_bench_" + hex.EncodeToString(b[:])
	exec := func(sql string) error {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE SCHEMA " + schema); err != nil {
		return "", nil, fmt.Errorf("bench: a schema for the run in %s: %w", dsn, err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, fmt.Errorf("bench: --db: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() { _ = exec("DROP SCHEMA " + schema + " CASCADE") }, nil
}

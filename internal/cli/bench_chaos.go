package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/internal/config"
)

// chaosRestartDelay is how long a killed chat server stays down before the
// supervisor starts it again: the first step of up's restart back-off,
// kept for every restart of a chaos run so that each kill costs the same.
const chaosRestartDelay = time.Second

// chaosRestartPolicy is the supervisor's restart policy under --chaos.
var chaosRestartPolicy = restartPolicy{on: true, first: chaosRestartDelay, max: chaosRestartDelay, stable: time.Minute}

// chaosKiller kills the chat servers of a spawned deployment in turn, with
// SIGKILL; the deployment's supervisor restarts each, as up does. Kill is
// called from one goroutine at a time.
type chaosKiller struct {
	runDir string
	names  []string // the chat servers, killed in this order
	log    io.Writer
	next   int // the index in names of the next victim
}

func newChaosKiller(d *config.Deployment, runDir string, log io.Writer) *chaosKiller {
	var names []string
	for _, name := range d.Names() {
		if d.Applications[name].Type == config.ChatServer {
			names = append(names, name)
		}
	}
	return &chaosKiller{runDir: runDir, names: names, log: log}
}

// kill SIGKILLs the next chat server, the one its pid file names now; it
// returns the victim and when the signal was sent.
func (k *chaosKiller) kill(context.Context) (string, time.Time, error) {
	name := k.names[k.next%len(k.names)]
	k.next++
	pid, err := readPID(filepath.Join(k.runDir, name+".pid"))
	if err != nil {
		return name, time.Time{}, fmt.Errorf("bench: chaos: %w", err)
	}
	at := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return name, at, fmt.Errorf("bench: chaos: kill %s (pid %d): %w", name, pid, err)
	}
	fmt.Fprintf(k.log, "bench --chaos: %s (pid %d) killed with SIGKILL\n", name, pid)
	return name, at, nil
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

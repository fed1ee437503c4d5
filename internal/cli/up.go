package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley/deploy"
	"github.com/parley-chat/parley/internal/config"
)

// startOrder is the order up starts application types in: what others
// connect to comes first. Each type is one group, started in parallel.
var startOrder = []config.AppType{
	config.InteractionServer, config.InteractionProxy, config.ChatServer, config.WebAPI, config.StatServer,
}

// upCommand returns the up command and its usage text.
func upCommand() *command {
	return &command{
		name:     "up",
		synopsis: "[--config FILE] [--apps NAME,...] [--grace DURATION] [--no-restart]",
		summary:  "start every application of a deployment, one child process each",
		doc: `Up starts every application of a deployment (or those named by --apps) as a
child process running 'parley run', in the order interaction servers, chat
servers, then the other types, each type in parallel once the previous one
answers GET /healthz. Each output line of a child is prefixed with its name;
<data-dir>/run/<app>.pid holds each child's pid while it runs, and up refuses
to start an application whose pid file names a live process; the others of
the deployment may run under another up (up --apps chat-2 next to an up of
the rest). An interaction server waiting as the backup of its pair counts as
ready once its partner serves.

A child that fails (exits with an error or is killed) is reported and
restarted, as a Genesys Local Control Agent restarts a failed application:
after 1s, doubling with each failure in a row up to 30s (a child that ran a
minute starts a new series); up says when a child keeps failing. Meanwhile
the others keep running, and connections to the dead child's addresses are
reset, so that its peers fail over at once; the restarted child is handed
the same listeners. A child that exits with status 0 was stopped on purpose
and stays stopped. With --no-restart, a child that exits is only reported.

Before it starts any child, up binds every application's listen (and
admin-listen) address itself and hands each child its listeners as
inherited descriptors (the systemd socket-activation protocol: LISTEN_FDS,
LISTEN_FDNAMES=NAME or NAME:NAME/admin; see run). When an address is taken,
by another deployment for instance, up names the application and the
address and starts nothing; whatever answers on an address up bound is the
child it handed it to. With --no-restart, up keeps no copy once a child
runs: the port of a child that exits refuses connections again. Up may itself be handed
listeners that way (by systemd, or a test), named after the applications
(NAME, NAME/admin); it passes those on instead of binding.

On Ctrl-C (SIGINT) or SIGTERM, up sends SIGTERM to every child, waits up
to --grace, then kills what remains. On SIGHUP, up sends SIGHUP to every
child, which re-reads the deployment file (see run).
Up exits when all children are gone: status 0 if none failed.`,
		example: "parley up --config deploy/embedded.yaml --apps chat-1,chat-2",
		setup: func(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
			file := configFlag(fs)
			apps := fs.String("apps", "", "comma-separated `NAMES` of the applications to start (default: all)")
			grace := fs.Duration("grace", 10*time.Second, "how long children have to stop after SIGTERM before they are killed")
			noRestart := fs.Bool("no-restart", false, "do not restart a child that fails: only report it (for tests that kill servers on purpose)")
			return func(ctx context.Context, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				return c.up(ctx, *file, *apps, *grace, !*noRestart)
			}
		},
	}
}

func (c *cli) up(ctx context.Context, file, apps string, grace time.Duration, restart bool) error {
	d, err := loadDeployment(file)
	if err != nil {
		return err
	}
	selected, err := selectApps(d, apps)
	if err != nil {
		return err
	}
	runDir := filepath.Join(d.DataDir, "run")
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return fmt.Errorf("up: %w", err)
	}
	if err := checkPIDFiles(d.DataDir, runDir, names(selected)); err != nil {
		return err
	}
	in, err := c.inheritListeners()
	if err != nil {
		return fmt.Errorf("up: %w", err)
	}
	defer in.closeRest() // those named after no selected application
	lns, err := bindAll(in, selected)
	if err != nil {
		return err
	}
	defer closeAll(lns) // those of children not started
	childConfig, err := childConfigFile(file, runDir)
	if err != nil {
		return err
	}
	if _, err := deploymentKey(d); err != nil { // made once here rather than raced for by the children
		return fmt.Errorf("up: %w", err)
	}
	s, err := newSupervisor(c, d, runDir, childConfig, grace, selected)
	if err != nil {
		return err
	}
	s.listeners = lns
	if c.restart != nil {
		s.restart = *c.restart
	}
	s.restart.on = restart
	hup, stop := notifyHangup()
	defer stop()
	s.hup = hup
	s.con.say("starting %d applications of %s (data-dir %s)", len(selected), d.File, d.DataDir)
	if file == "" {
		s.con.say("demo agent logins of the embedded deployment: alice (password alice), bob (password bob, a supervisor)")
	}
	return s.run(ctx, groups(selected))
}

// bindAll takes the listeners of apps: those in in, named after them, or
// new ones on their addresses. When one cannot be
// bound it closes the others and says which application and address, and
// what to do.
func bindAll(in inherited, apps []*config.Application) (map[string]appListeners, error) {
	lns := make(map[string]appListeners, len(apps))
	for _, a := range apps {
		l, err := in.listenApp(a)
		if err != nil {
			closeAll(lns)
			return nil, fmt.Errorf("up: %w; is another deployment running? Stop it, or give this one free addresses in a deployment file (--config FILE)", err)
		}
		lns[a.Name] = l
	}
	return lns, nil
}

func closeAll(lns map[string]appListeners) {
	for _, l := range lns {
		l.close()
	}
}

func names(apps []*config.Application) []string {
	out := make([]string, len(apps))
	for i, a := range apps {
		out[i] = a.Name
	}
	return out
}

// selectApps returns the applications named in the comma-separated list, or
// all of them when it is empty.
func selectApps(d *config.Deployment, list string) ([]*config.Application, error) {
	names := d.Names()
	if list != "" {
		names = strings.Split(list, ",")
	}
	var apps []*config.Application
	for _, name := range names {
		a, err := d.App(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		if !slices.Contains(apps, a) && a.Type != config.ApplicationCluster { // a cluster is no process
			apps = append(apps, a)
		}
	}
	return apps, nil
}

// groups splits apps by type, in startOrder, each group sorted by name.
func groups(apps []*config.Application) [][]*config.Application {
	var out [][]*config.Application
	for _, t := range startOrder {
		var g []*config.Application
		for _, a := range apps {
			if a.Type == t {
				g = append(g, a)
			}
		}
		if len(g) > 0 {
			slices.SortFunc(g, func(a, b *config.Application) int { return strings.Compare(a.Name, b.Name) })
			out = append(out, g)
		}
	}
	return out
}

// childConfigFile returns the absolute path of the deployment file children
// are given. The embedded deployment is written to runDir/embedded.yaml, so
// that a child reads exactly what its parent read.
func childConfigFile(file, runDir string) (string, error) {
	if file != "" {
		abs, err := filepath.Abs(file)
		if err != nil {
			return "", fmt.Errorf("up: %w", err)
		}
		return abs, nil
	}
	path := filepath.Join(runDir, "embedded.yaml")
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, deploy.Embedded) {
		return path, nil // another up's children may be reading it
	}
	if err := writeAtomic(path, deploy.Embedded); err != nil {
		return "", fmt.Errorf("up: write the embedded deployment: %w", err)
	}
	return path, nil
}

package cli

import (
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
	config.InteractionServer, config.ChatServer, config.WebAPI, config.InteractionProxy, config.StatServer,
}

// upCommand returns the up command and its usage text.
func upCommand() *command {
	return &command{
		name:     "up",
		synopsis: "[--config FILE] [--apps NAME,...] [--grace DURATION]",
		summary:  "start every application of a deployment, one child process each",
		doc: `Up starts every application of a deployment (or those named by --apps) as a
child process running 'parley run', in the order interaction servers, chat
servers, then the other types, each type in parallel once the previous one
answers GET /healthz. Each output line of a child is prefixed with its name;
<data-dir>/run/<app>.pid holds each child's pid while it runs, and up refuses
to start when one names a live process. A child that exits is reported and
the others keep running.

Before it starts any child, up binds every application's listen (and
admin-listen) address itself and hands each child its listeners as
inherited descriptors (the systemd socket-activation protocol: LISTEN_FDS,
LISTEN_FDNAMES=NAME or NAME:NAME/admin; see run). When an address is taken,
by another deployment for instance, up names the application and the
address and starts nothing; whatever answers on an address up bound is the
child it handed it to. Up keeps no copy once a child runs: the port of a
child that exits refuses connections again. Up may itself be handed
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
			return func(ctx context.Context, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				return c.up(ctx, *file, *apps, *grace)
			}
		},
	}
}

func (c *cli) up(ctx context.Context, file, apps string, grace time.Duration) error {
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
	if err := checkPIDFiles(d.DataDir, runDir); err != nil {
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
	hup, stop := notifyHangup()
	defer stop()
	s.hup = hup
	s.con.say("starting %d applications of %s (data-dir %s)", len(selected), d.File, d.DataDir)
	if file == "" {
		s.con.say("demo agent logins of the embedded deployment: alice (password alice), bob (password bob)")
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
		if !slices.Contains(apps, a) {
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
	if err := os.WriteFile(path, deploy.Embedded, 0o644); err != nil {
		return "", fmt.Errorf("up: write the embedded deployment: %w", err)
	}
	return path, nil
}

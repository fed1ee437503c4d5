package cli

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/ixn/ixnserver"
	"github.com/parley-chat/parley/internal/service"
)

// runCommand returns the run command and its usage text.
func runCommand() *command {
	return &command{
		name:     "run",
		synopsis: "[--config FILE] --app NAME",
		summary:  "run one application of a deployment in the foreground",
		doc: `Run runs the application NAME of a deployment in the foreground, logging to
stderr at the level of its [log] verbose option, until it is interrupted
(SIGINT or SIGTERM), when it stops gracefully. This is how production runs
parley: one process per application, on any number of hosts. On SIGHUP it
re-reads the deployment file: a chat server applies the options that can
change at run time (docs/options.md) and logs those that need a restart; an
invalid file is refused with check-config's errors and nothing changes.

Run serves on listeners it inherits by the systemd socket-activation
protocol (sd_listen_fds(3): descriptors from 3, LISTEN_FDS, LISTEN_FDNAMES)
when one is named NAME (the application's listener) or NAME/admin (its
admin-listen listener), and binds the configured address otherwise; TLS
still applies. LISTEN_PID, when set, must be run's pid; unset, the
descriptors are taken as run's too, as 'parley up' passes them (a Go parent
cannot know its child's pid before it starts). Run unsets the variables.
Inherited listeners named otherwise are closed with a warning.

With --log-format json (or PARLEY_LOG_FORMAT=json, as the container image
sets) run writes its records as JSON lines to stdout instead, for a log
collector; stderr then carries only what is not a record (a Go runtime
crash). A database with dsn-env takes its DSN from that environment
variable at start.`,
		example: "parley run --config deploy/postgres.yaml --app chat-1",
		setup: func(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
			file := configFlag(fs)
			app := fs.String("app", "", "the `NAME` of the application to run (required)")
			profile := fs.String("cpuprofile", "", "write the process's CPU profile, from start to stop, to `FILE` (for go tool pprof)")
			format := fs.String("log-format", cmp.Or(os.Getenv(logFormatEnv), "text"), "`FORMAT` of the log records: text to stderr, or json to stdout (default: $"+logFormatEnv+", or text)")
			return func(ctx context.Context, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				if *app == "" {
					return usageErrorf("--app is required")
				}
				if *format != "text" && *format != "json" {
					return usageErrorf("--log-format %q: want text or json", *format)
				}
				stopProfile, err := startProfile(*profile)
				if err != nil {
					return err
				}
				defer stopProfile()
				return c.run(ctx, *file, *app, *format)
			}
		},
	}
}

// run wires and runs one application: deployment, logger, role, run. On
// SIGHUP it re-reads the deployment file (reload).
func (c *cli) run(ctx context.Context, file, name, format string) error {
	hup, stop := notifyHangup() // first: an early SIGHUP must not end the process
	defer stop()
	in, err := c.inheritListeners() // early: its variables must not reach anything this process starts
	if err != nil {
		return err
	}
	defer in.closeRest()
	d, err := loadDeployment(file)
	if err != nil {
		return err
	}
	if err := d.ResolveEnv(os.Getenv); err != nil {
		return err
	}
	app, err := d.App(name)
	if err != nil {
		return err
	}
	level := new(slog.LevelVar)
	level.Set(app.Log.Level())
	log := c.runLogger(format, app.Name, level)
	trust, err := newTrust(d, app, log)
	if err != nil {
		return err
	}
	inheritedMain := in[app.Name] != nil
	lns, err := in.listenApp(app)
	if err != nil {
		return err
	}
	defer lns.close()
	if unused := in.closeRest(); len(unused) > 0 {
		log.Warn("inherited listeners named after no listener of this application: closed", "names", unused)
	}
	svc, err := newApplication(ctx, d, app, trust, trust.Wrap(lns.main), log)
	if err != nil {
		return err
	}
	log.Info("starting", "type", app.Type, "listen", lns.main.Addr().String(), "config", d.File, "data-dir", d.DataDir, "inherited", inheritedMain)
	stopAdmin, err := serveAdmin(ctx, app, svc, lns.admin, log)
	if err != nil {
		return err
	}
	defer stopAdmin()
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	for {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("application %q: %w", name, err)
			}
			log.Info("stopped")
			return nil
		case <-hup:
			reload(file, app, svc, level, log)
			reloadCerts(trust, log)
		}
	}
}

// reloadCerts re-reads the application's TLS material on SIGHUP; new
// connections use it, open ones keep theirs. A failed read keeps the old.
func reloadCerts(t *service.Trust, log *slog.Logger) {
	if t.Certs == nil {
		return
	}
	if err := t.Certs.Reload(); err != nil {
		log.Error("certificates not reloaded; the running ones stay", "err", err)
		return
	}
	log.Info("certificates reloaded")
}

// notifyHangup returns the SIGHUPs the process receives, the conventional
// request to re-read its configuration, and the function that stops that.
func notifyHangup() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	return ch, func() { signal.Stop(ch) }
}

// reconfigurer is an application whose options may change while it runs.
type reconfigurer interface {
	// Reconfigure applies the options of app, re-read from the deployment
	// file; it logs what needs a restart. An error changes nothing.
	Reconfigure(app *config.Application) error
}

// chatApp is a chat server as run runs it: a reconfigurer.
type chatApp struct {
	service.Func
	srv *chatserver.Server
}

// MonitoringHandler is the chat server's admin listener handler.
func (a chatApp) MonitoringHandler() http.Handler { return a.srv.MonitoringHandler() }

// ixnApp is an interaction server as run runs it.
type ixnApp struct {
	service.Func
	srv *ixnserver.Server
}

// MonitoringHandler is the interaction server's admin listener handler.
func (a ixnApp) MonitoringHandler() http.Handler { return a.srv.MonitoringHandler() }

// monitored is an application that can serve its figures on an admin
// listener.
type monitored interface {
	MonitoringHandler() http.Handler
}

// serveAdmin serves svc's figures on ln, app's admin listener
// (admin-listen), until ctx is done or the returned func, which stops it
// and waits, is called. Without one (a nil ln) it does nothing.
func serveAdmin(ctx context.Context, app *config.Application, svc service.Service, ln net.Listener, log *slog.Logger) (stop func(), err error) {
	m, ok := svc.(monitored)
	if ln == nil || !ok {
		return func() {}, nil
	}
	log.Info("admin listener serving /healthz and /metrics without credentials", "admin-listen", ln.Addr().String())
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := service.ServeHTTP(ctx, ln, m.MonitoringHandler(), time.Second, log); err != nil {
			log.Error("admin listener failed", "err", err)
		}
	}()
	return func() { cancel(); <-done }, nil
}

func (a chatApp) Reconfigure(app *config.Application) error {
	if _, err := a.srv.Reconfigure(*app.Chat); err != nil {
		return err
	}
	a.srv.SetDeploymentDisabled(app.Disabled)
	return nil
}

// reload re-reads the deployment file and hands the application running as
// started its new options and [log] verbose. An invalid file is refused with
// the one-line errors check-config prints, and the running options stay.
// Changes only a restart applies (listen, database, connections, the
// options of an application that is not a reconfigurer) are logged.
func reload(file string, started *config.Application, svc service.Service, level *slog.LevelVar, log *slog.Logger) {
	log.Info("SIGHUP: re-reading the deployment file")
	d, err := loadDeployment(file)
	var app *config.Application
	if err == nil {
		app, err = d.App(started.Name)
	}
	if err == nil && app.Type != started.Type {
		err = fmt.Errorf("application %q: type %s, running as %s", app.Name, app.Type, started.Type)
	}
	r, live := svc.(reconfigurer)
	if err == nil && live {
		err = r.Reconfigure(app)
	}
	if err != nil {
		for line := range strings.SplitSeq(err.Error(), "\n") {
			log.Error("deployment file refused; the running options stay", "err", line)
		}
		return
	}
	level.Set(app.Log.Level())
	for _, name := range restartNeeded(started, app, live) {
		log.Warn("option changed; it applies after a restart", "option", name)
	}
}

// restartNeeded names what differs between the application as it started
// and as the file now describes it, that a running process cannot take:
// its place in the deployment, and all its options unless live.
func restartNeeded(a, b *config.Application, live bool) []string {
	var names []string
	for _, o := range []struct {
		name    string
		changed bool
	}{
		{"listen", a.Listen != b.Listen},
		{"database", a.Database != b.Database},
		{"connections", !slices.Equal(a.Connections, b.Connections)},
		{"backup", a.Backup != b.Backup},
		{"options", !live && !(reflect.DeepEqual(a.Chat, b.Chat) && reflect.DeepEqual(a.Web, b.Web) && reflect.DeepEqual(a.Ixn, b.Ixn))},
	} {
		if o.changed {
			names = append(names, o.name)
		}
	}
	return names
}

// newLogger returns the logger of app: text to w, at the level of its [log]
// verbose option, every record carrying app=NAME.
func newLogger(w io.Writer, app *config.Application) *slog.Logger {
	return appLogger(w, app.Name, app.Log.Level())
}

// appLogger returns the logger of application name: text to w at level,
// every record carrying app=NAME.
func appLogger(w io.Writer, name string, level slog.Leveler) *slog.Logger {
	h := slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})
	return slog.New(h).With("app", name)
}

// logFormatEnv names the environment variable that gives run's
// --log-format its default; the container image sets it to json.
const logFormatEnv = "PARLEY_LOG_FORMAT"

// runLogger returns run's logger for application name: text to stderr, or
// JSON lines to stdout when format is "json", where a collector reads them
// apart from anything else the process may print.
func (c *cli) runLogger(format, name string, level slog.Leveler) *slog.Logger {
	if format != "json" {
		return appLogger(c.stderr, name, level)
	}
	h := slog.NewJSONHandler(c.stdout, &slog.HandlerOptions{Level: level})
	return slog.New(h).With("app", name)
}

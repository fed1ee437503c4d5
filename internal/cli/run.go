package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/parley-chat/parley/internal/config"
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
parley: one process per application, on any number of hosts.`,
		example: "parley run --config deploy/postgres.yaml --app chat-1",
		setup: func(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
			file := configFlag(fs)
			app := fs.String("app", "", "the `NAME` of the application to run (required)")
			return func(ctx context.Context, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				if *app == "" {
					return usageErrorf("--app is required")
				}
				return c.run(ctx, *file, *app)
			}
		},
	}
}

// run wires and runs one application: deployment, logger, role, run.
func (c *cli) run(ctx context.Context, file, name string) error {
	d, err := loadDeployment(file)
	if err != nil {
		return err
	}
	app, err := d.App(name)
	if err != nil {
		return err
	}
	log := newLogger(c.stderr, app)
	svc, err := newApplication(ctx, d, app, log)
	if err != nil {
		return err
	}
	log.Info("starting", "type", app.Type, "listen", app.Listen, "config", d.File, "data-dir", d.DataDir)
	if err := svc.Run(ctx); err != nil {
		return fmt.Errorf("application %q: %w", name, err)
	}
	log.Info("stopped")
	return nil
}

// newLogger returns the logger of app: text to w, at the level of its [log]
// verbose option, every record carrying app=NAME.
func newLogger(w io.Writer, app *config.Application) *slog.Logger {
	h := slog.NewTextHandler(w, &slog.HandlerOptions{Level: app.Log.Level()})
	return slog.New(h).With("app", app.Name)
}

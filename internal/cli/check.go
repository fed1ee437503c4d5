package cli

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/parley-chat/parley/deploy"
	"github.com/parley-chat/parley/internal/config"
)

// embeddedFile is the name the built-in deployment goes by in messages.
const embeddedFile = "<embedded>"

// checkConfigCommand returns the check-config command and its usage text.
func checkConfigCommand() *command {
	return &command{
		name:     "check-config",
		synopsis: "[--config FILE]",
		summary:  "validate a deployment file and list its applications",
		doc: `Check-config reads and validates a deployment file, as run and up would, and
prints one line per application: name, type, listen address, database. On an
invalid file it prints each problem on one line naming the file, the
application, the section and the option, and exits with status 1.`,
		example: "parley check-config --config deploy/postgres.yaml",
		setup: func(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
			file := configFlag(fs)
			return func(_ context.Context, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				return c.checkConfig(*file)
			}
		},
	}
}

// configFlag defines --config, shared by every command that reads a
// deployment.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "the deployment `FILE` (default: the embedded deployment, SQLite under ./parley-data)")
}

func (c *cli) checkConfig(file string) error {
	d, err := loadDeployment(file)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	for _, name := range d.Names() {
		a := d.Applications[name]
		db := "database -"
		if a.Database != "" {
			db = fmt.Sprintf("database %s (%s)", a.Database, d.Databases[a.Database].Driver)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Name, a.Type, a.Listen, db)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("check-config: %w", err)
	}
	return nil
}

// loadDeployment loads file, or the embedded deployment when file is empty,
// and makes its data-dir absolute, relative to the current directory, so that
// every later path (databases, pid files) is independent of where it is used.
func loadDeployment(file string) (*config.Deployment, error) {
	var d *config.Deployment
	var err error
	if file == "" {
		d, err = config.Parse(embeddedFile, deploy.Embedded)
	} else {
		d, err = config.Load(file)
	}
	if err != nil {
		return nil, err // config errors already name the file
	}
	if !filepath.IsAbs(d.DataDir) {
		abs, err := filepath.Abs(d.DataDir)
		if err != nil {
			return nil, fmt.Errorf("%s: data-dir %s: %w", cmp.Or(d.File, embeddedFile), d.DataDir, err)
		}
		d.DataDir = abs
	}
	return d, nil
}

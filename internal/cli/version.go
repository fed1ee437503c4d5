package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
)

// versionCommand returns the version command and its usage text.
func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print the version of this binary",
		doc: `Version prints the module version of this binary, the Go version it was
built with and, when the build recorded them, its VCS revision and time.`,
		example: "parley version",
		setup: func(c *cli, _ *flag.FlagSet) func(context.Context, []string) error {
			return func(_ context.Context, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				printVersion(c.stdout)
				return nil
			}
		},
	}
}

func printVersion(w io.Writer) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(w, "parley (no build information)")
		return
	}
	fmt.Fprintf(w, "parley %s %s %s\n", info.Main.Path, info.Main.Version, info.GoVersion)
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs", "vcs.revision", "vcs.time", "vcs.modified", "GOOS", "GOARCH":
			fmt.Fprintf(w, "  %s=%s\n", s.Key, s.Value)
		}
	}
}

package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
)

// Exit codes of Main.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// cli holds what a command writes to and, for up, how it starts a child;
// tests replace them.
type cli struct {
	stdin          io.Reader // hash-password reads the password from it
	stdout, stderr io.Writer
	// command returns the command that runs the parley binary with args; up
	// starts its children with it.
	command func(args ...string) (*exec.Cmd, error)
	// inherit returns the listeners the process was handed, by name (nil:
	// service.InheritListeners); run and up serve on them.
	inherit func() (map[string]net.Listener, error)
	// restart replaces up's restart delays (nil: defaultRestart); tests
	// shorten them. Whether up restarts at all is its --no-restart flag.
	restart *restartPolicy
}

// Main runs the parley command line args (without the program name) and
// returns the process exit code: 0 on success, 1 on failure, 2 on a usage
// error. ctx is cancelled on SIGINT or SIGTERM; commands that run servers
// stop gracefully when it is.
func Main(ctx context.Context, args []string) int {
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, command: selfCommand}
	return c.main(ctx, args)
}

// selfCommand runs the current executable. Under `go run` that is a binary in
// a temporary directory, which stays valid while the parent runs.
func selfCommand(args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the parley executable: %w", err)
	}
	return exec.Command(exe, args...), nil
}

func (c *cli) main(ctx context.Context, args []string) int {
	if len(args) == 0 {
		c.printSummary(c.stderr)
		return exitUsage
	}
	name := args[0]
	if name == "-h" || name == "-help" || name == "--help" {
		name = "help"
	}
	if name == "bench" && len(args) > 1 && args[1] == "report" { // the one two-word command
		name, args = "bench report", args[1:]
	}
	cmd, ok := lookup(name)
	if !ok {
		fmt.Fprintf(c.stderr, "parley: unknown command %q\n\n", name)
		c.printSummary(c.stderr)
		return exitUsage
	}
	return c.exit(cmd, c.dispatch(ctx, cmd, args[1:]))
}

// dispatch parses the flags of cmd and runs it.
func (c *cli) dispatch(ctx context.Context, cmd *command, args []string) error {
	fs := flag.NewFlagSet("parley "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and usage are printed by exit, once
	run := cmd.setup(c, fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(c.stdout, cmd, fs)
			return nil
		}
		return usageError{err}
	}
	return run(ctx, fs.Args())
}

// exit prints err, if any, and returns the exit code it calls for.
func (c *cli) exit(cmd *command, err error) int {
	if err == nil {
		return exitOK
	}
	if ue, ok := errors.AsType[usageError](err); ok {
		fmt.Fprintf(c.stderr, "parley: %s: %s\nRun 'parley %s -h' for usage.\n", cmd.name, oneLine(ue.Error()), cmd.name)
		return exitUsage
	}
	// Joined errors (several problems in one deployment file) get a line each.
	for line := range strings.SplitSeq(err.Error(), "\n") {
		fmt.Fprintf(c.stderr, "parley: %s\n", line)
	}
	return exitFailure
}

// usageError is a mistake in the command line itself: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// noArgs refuses positional arguments for commands that take none.
func noArgs(args []string) error {
	if len(args) > 0 {
		return usageErrorf("unexpected argument %q", args[0])
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

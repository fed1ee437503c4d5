package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one subcommand of parley.
type command struct {
	name     string
	synopsis string // the arguments after "parley NAME" in the usage line
	summary  string // one line for the list of commands
	doc      string // what it does, for its usage text
	example  string
	// setup defines the command's flags on fs and returns the function that
	// runs it once fs is parsed, with the positional arguments.
	setup func(c *cli, fs *flag.FlagSet) func(ctx context.Context, args []string) error
}

// commands returns every command, in the order help lists them.
func commands() []*command {
	return []*command{upCommand(), runCommand(), checkConfigCommand(), benchCommand(), benchReportCommand(),
		hashPasswordCommand(), certsCommand(), clientKeyCommand(), adminTokenCommand(), switchoverCommand(), drainCommand(),
		imageCommand(), versionCommand(), helpCommand()}
}

func lookup(name string) (*command, bool) {
	for _, cmd := range commands() {
		if cmd.name == name {
			return cmd, true
		}
	}
	return nil, false
}

// helpCommand returns the help command and its usage text.
func helpCommand() *command {
	return &command{
		name:     "help",
		synopsis: "[COMMAND]",
		summary:  "explain the commands and their flags",
		doc:      "Help explains COMMAND, or every command when none is named.",
		example:  "parley help up",
		setup: func(c *cli, _ *flag.FlagSet) func(context.Context, []string) error {
			return func(_ context.Context, args []string) error { return c.help(args) }
		},
	}
}

func (c *cli) help(args []string) error {
	switch len(args) {
	case 0:
		c.printSummary(c.stdout)
		for _, cmd := range commands() {
			fmt.Fprintln(c.stdout)
			printUsage(c.stdout, cmd, flagSet(c, cmd))
		}
		return nil
	case 1:
		cmd, ok := lookup(args[0])
		if !ok {
			return usageErrorf("unknown command %q", args[0])
		}
		printUsage(c.stdout, cmd, flagSet(c, cmd))
		return nil
	}
	return usageErrorf("help takes at most one command")
}

// flagSet returns cmd's flags, for printing them.
func flagSet(c *cli, cmd *command) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	cmd.setup(c, fs)
	return fs
}

// printSummary prints what parley is and the list of commands.
func (c *cli) printSummary(w io.Writer) {
	fmt.Fprint(w, `parley runs a high-availability contact-center chat stack: chat servers,
an interaction server and a web API compatible with GMS Chat API v2.

Usage: parley COMMAND [flags]

Commands:
`)
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-13s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprint(w, "\nRun 'parley help' for every flag, 'parley COMMAND -h' for one command.\n")
}

// printUsage prints the usage text of cmd, every flag of fs included.
func printUsage(w io.Writer, cmd *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: parley %s %s\n\n%s\n", cmd.name, cmd.synopsis, cmd.doc)
	var flags strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		def := f.DefValue
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			arg = "" // a switch takes no argument; only a default of true is news
			if def == "false" {
				def = ""
			}
		}
		fmt.Fprintf(&flags, "  --%s", f.Name)
		if arg != "" {
			fmt.Fprintf(&flags, " %s", arg)
		}
		fmt.Fprintf(&flags, "\n        %s", usage)
		if def != "" {
			fmt.Fprintf(&flags, " (default %s)", def)
		}
		flags.WriteString("\n")
	})
	if flags.Len() > 0 {
		fmt.Fprintf(w, "\nFlags:\n%s", flags.String())
	}
	fmt.Fprintf(w, "\nExample:\n  %s\n", cmd.example)
}

// Command parley runs parley's applications; see internal/cli, or run
// `parley help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/parley-chat/parley/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, restore the default handling, so that a second
	// Ctrl-C ends a stop that takes too long.
	context.AfterFunc(ctx, stop)
	code := cli.Main(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

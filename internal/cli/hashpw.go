package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/internal/ixn"
)

// hashPasswordCommand returns the hash-password command and its usage text.
func hashPasswordCommand() *command {
	return &command{
		name:    "hash-password",
		summary: "print the password-hash of an agent's password read from stdin",
		doc: `Hash-password reads a password, the first line of standard input, and
prints its password-hash for an agent:<id> section of an interaction server:
pbkdf2-sha256$<iterations>$<salt>$<key>, PBKDF2 with HMAC-SHA-256 and a
random salt. The password is read from stdin, not taken as an argument, so
that it stays out of the process list and the shell history. Each login
costs one derivation on the interaction server: lower --iterations only if
logins take too long there.`,
		example: "parley hash-password --iterations 600000 < alice.password",
		setup: func(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
			iterations := fs.Int("iterations", ixn.PasswordIterations, fmt.Sprintf("PBKDF2 iteration count, %d-%d", ixn.MinPasswordIterations, ixn.MaxPasswordIterations))
			return func(_ context.Context, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				if *iterations < ixn.MinPasswordIterations || *iterations > ixn.MaxPasswordIterations {
					return usageErrorf("--iterations %d: want %d-%d", *iterations, ixn.MinPasswordIterations, ixn.MaxPasswordIterations)
				}
				password, err := bufio.NewReader(c.stdin).ReadString('\n')
				password = strings.TrimRight(password, "\r\n")
				if password == "" {
					return errors.Join(errors.New("hash-password: no password on stdin"), err)
				}
				fmt.Fprintln(c.stdout, ixn.NewPasswordHash(password, *iterations))
				return nil
			}
		},
	}
}

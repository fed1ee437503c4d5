//go:build unix

package cli

import (
	"errors"
	"os"
	"syscall"
)

// alive reports whether a process with this pid exists (EPERM: it exists but
// belongs to someone else).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// terminate asks p to stop gracefully.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

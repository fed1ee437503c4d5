//go:build !unix

package cli

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// alive reports whether a process with this pid exists.
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}

// terminate stops p; without signals there is no graceful request.
func terminate(p *os.Process) error { return p.Kill() }

func childAttr() *syscall.SysProcAttr { return nil }

// setNonblock is unsupported without unix descriptors: up then does not
// refuse connections to a dead child's address (see refuse).
func setNonblock(net.Listener) error { return errors.ErrUnsupported }

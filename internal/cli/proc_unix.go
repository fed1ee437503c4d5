//go:build unix

package cli

import (
	"errors"
	"net"
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

// setNonblock puts ln's descriptor back in non-blocking mode, so that its
// Accept honours deadlines: starting a child with it as an inherited
// descriptor (exec's File.Fd) puts the description both share in blocking
// mode.
func setNonblock(ln net.Listener) error {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return errors.ErrUnsupported
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.SetNonblock(int(fd), true) }); err != nil {
		return err
	}
	return serr
}

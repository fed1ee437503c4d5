//go:build unix

package service

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

// fileListener takes the inherited descriptor fd as a listener named name.
func fileListener(fd int, name string) (net.Listener, error) {
	syscall.CloseOnExec(fd)
	f := os.NewFile(uintptr(fd), name)
	if f == nil {
		return nil, fmt.Errorf("%w: descriptor %d (%s) is not open", ErrActivation, fd, name)
	}
	defer f.Close() // FileListener holds a duplicate
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("%w: descriptor %d (%s) is not an open listening socket: %v", ErrActivation, fd, name, err)
	}
	return ln, nil
}

//go:build !unix

package service

import (
	"fmt"
	"net"
)

// fileListener refuses: inherited descriptors are a Unix protocol.
func fileListener(fd int, name string) (net.Listener, error) {
	return nil, fmt.Errorf("%w: descriptor %d (%s): not supported on this system", ErrActivation, fd, name)
}

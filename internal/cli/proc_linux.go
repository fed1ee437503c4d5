package cli

import "syscall"

// childAttr puts a child in its own process group, so that a Ctrl-C in the
// terminal reaches only up, which then stops the children in order, and has
// the kernel send it SIGTERM if up dies without stopping it.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

package service

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
)

// The environment of the systemd socket-activation protocol
// (sd_listen_fds(3)): LISTEN_FDS descriptors, from ListenFDsStart on, are
// passed to the process LISTEN_PID, named in order by the colon-separated
// LISTEN_FDNAMES.
const (
	EnvListenPID     = "LISTEN_PID"
	EnvListenFDs     = "LISTEN_FDS"
	EnvListenFDNames = "LISTEN_FDNAMES"
	ListenFDsStart   = 3 // SD_LISTEN_FDS_START
)

// ErrActivation is returned when the socket-activation variables are set but
// do not describe descriptors a process can take: a count or pid that is
// not a number, names that do not match the count, a descriptor that is not
// a listening socket, or a name given twice.
var ErrActivation = errors.New("service: bad socket-activation environment")

// ActivatedNames returns the names of the descriptors the socket-activation
// variables getenv reads pass to the process pid, in descriptor order from
// ListenFDsStart; nil when none are passed to it.
//
// It follows sd_listen_fds(3), with one deliberate difference: LISTEN_PID
// unset is taken as "this process", as well as LISTEN_PID equal to pid. A Go
// launcher (os/exec, and so `parley up`) cannot know its child's pid before
// the child runs, so it cannot set LISTEN_PID; a LISTEN_PID naming another
// process still means the variables were inherited by mistake and are
// ignored. Descriptors without a name (LISTEN_FDNAMES unset) are named
// "unknown", as systemd names them.
func ActivatedNames(pid int, getenv func(string) string) ([]string, error) {
	fds := getenv(EnvListenFDs)
	if fds == "" {
		return nil, nil
	}
	if p := getenv(EnvListenPID); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %s=%q is not a pid", ErrActivation, EnvListenPID, p)
		}
		if n != pid {
			return nil, nil // meant for another process
		}
	}
	n, err := strconv.Atoi(fds)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%w: %s=%q is not a count", ErrActivation, EnvListenFDs, fds)
	}
	if n == 0 {
		return nil, nil
	}
	names := strings.Split(getenv(EnvListenFDNames), ":")
	if getenv(EnvListenFDNames) == "" {
		names = slices.Repeat([]string{"unknown"}, n)
	}
	if len(names) != n {
		return nil, fmt.Errorf("%w: %s names %d descriptors, %s=%d", ErrActivation, EnvListenFDNames, len(names), EnvListenFDs, n)
	}
	return names, nil
}

// InheritListeners takes the listeners passed to this process by the
// socket-activation protocol (see ActivatedNames), by name, and unsets the
// variables, whatever the outcome, so that the process's own children do
// not take them for theirs. The descriptors are marked close-on-exec. It
// returns an empty map when none were passed, and ErrActivation when the
// variables are malformed, a descriptor is not a listening socket, or two
// share a name. Call it once, early.
func InheritListeners() (map[string]net.Listener, error) {
	names, err := ActivatedNames(os.Getpid(), os.Getenv)
	for _, v := range []string{EnvListenPID, EnvListenFDs, EnvListenFDNames} {
		os.Unsetenv(v)
	}
	if err != nil {
		return nil, err
	}
	lns := make(map[string]net.Listener, len(names))
	for i, name := range names {
		ln, err := fileListener(ListenFDsStart+i, name)
		if err == nil && lns[name] != nil {
			ln.Close()
			err = fmt.Errorf("%w: two descriptors are named %q", ErrActivation, name)
		}
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, err
		}
		lns[name] = ln
	}
	return lns, nil
}

// ActivationEnv returns env without any socket-activation variable, plus
// those that pass a child the descriptors named names, in order, from
// ListenFDsStart (exec.Cmd.ExtraFiles in the same order). LISTEN_PID is left
// unset: see ActivatedNames.
func ActivationEnv(env []string, names []string) []string {
	out := slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return k == EnvListenPID || k == EnvListenFDs || k == EnvListenFDNames
	})
	if len(names) == 0 {
		return out
	}
	return append(out, EnvListenFDs+"="+strconv.Itoa(len(names)), EnvListenFDNames+"="+strings.Join(names, ":"))
}

// ListenerFile returns a duplicate of ln's descriptor, to hand to a child
// process; ln stays open. Only TCP and Unix listeners have one.
func ListenerFile(ln net.Listener) (*os.File, error) {
	f, ok := ln.(interface{ File() (*os.File, error) })
	if !ok {
		return nil, fmt.Errorf("service: a %T has no descriptor to pass on", ln)
	}
	return f.File()
}

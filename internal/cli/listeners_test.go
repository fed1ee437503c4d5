package cli

import (
	"net"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/service"
)

// heldListeners are listeners a test binds on 127.0.0.1:0 and hands to
// the processes it starts as inherited descriptors (the socket-activation
// protocol `parley up` and `parley run` read), so that no port is ever
// closed between being chosen and being served: nobody else can take it.
type heldListeners struct {
	t   *testing.T
	lns map[string]net.Listener // by application; removed once handed over
}

// holdListeners binds a listener for each of names and returns them with
// their addresses, for the deployment file. Those never handed to a
// process are closed when the test ends.
func holdListeners(t *testing.T, names ...string) (*heldListeners, map[string]string) {
	t.Helper()
	h := &heldListeners{t: t, lns: map[string]net.Listener{}}
	addrs := map[string]string{}
	for _, name := range names {
		addrs[name] = h.add(name)
	}
	t.Cleanup(func() {
		for _, ln := range h.lns {
			ln.Close()
		}
	})
	return h, addrs
}

// add binds one more listener, named name, and returns its address.
func (h *heldListeners) add(name string) string {
	h.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	h.lns[name] = ln
	return ln.Addr().String()
}

// start starts cmd with the listeners named names (all, when none are
// named) as its inherited descriptors, then closes the test's copies: the
// process holds the only ones, and its ports refuse connections once it
// dies, as they would with a process that bound them itself.
func (h *heldListeners) start(cmd *exec.Cmd, names ...string) {
	h.t.Helper()
	if len(names) == 0 {
		for name := range h.lns {
			names = append(names, name)
		}
	}
	var files []*os.File
	defer func() { closeFiles(files) }()
	for _, name := range names {
		f, err := service.ListenerFile(h.lns[name])
		if err != nil {
			h.t.Fatalf("listener %s: %v", name, err)
		}
		files = append(files, f)
	}
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = service.ActivationEnv(env, names)
	cmd.ExtraFiles = files
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	for _, ln := range h.take(names...) {
		ln.Close() // the process holds them now
	}
}

// take removes every listener from h, or those named names, and returns
// them: an in-process `parley up` takes them as its inherited ones.
func (h *heldListeners) take(names ...string) map[string]net.Listener {
	taken := map[string]net.Listener{}
	for name, ln := range h.lns {
		if len(names) == 0 || slices.Contains(names, name) {
			taken[name] = ln
			delete(h.lns, name)
		}
	}
	return taken
}

package cli

import (
	"fmt"
	"maps"
	"net"
	"os"
	"slices"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
)

// inherited are the listeners this process was handed by the systemd
// socket-activation protocol (LISTEN_FDS, LISTEN_FDNAMES; see
// service.InheritListeners), by name. An application's listener is named
// after it (chat-1), its admin listener NAME/admin (chat-1/admin). `parley
// up` hands each child its own this way, and so may systemd (a socket unit
// with FileDescriptorName=chat-1) or a test. Not safe for concurrent use.
type inherited map[string]net.Listener

// inheritListeners takes the listeners passed to this process and clears
// the variables that passed them, so that its children do not see them.
func (c *cli) inheritListeners() (inherited, error) {
	take := c.inherit
	if take == nil {
		take = service.InheritListeners
	}
	lns, err := take()
	if err != nil {
		return nil, err
	}
	return inherited(lns), nil
}

// adminName is the name of application app's admin listener among the
// inherited ones.
func adminName(app string) string { return app + "/admin" }

// listen returns the listener named name, taken from the inherited ones,
// or else bound on addr.
func (in inherited) listen(name, addr string) (net.Listener, error) {
	if ln, ok := in[name]; ok {
		delete(in, name)
		return ln, nil
	}
	return net.Listen("tcp", addr)
}

// closeRest closes the inherited listeners nobody took and returns their
// names, sorted.
func (in inherited) closeRest() []string {
	names := slices.Sorted(maps.Keys(in))
	for _, name := range names {
		in[name].Close()
		delete(in, name)
	}
	return names
}

// appListeners are the listeners of one application: its own and, with
// admin-listen, its admin listener.
type appListeners struct {
	main, admin net.Listener
}

// close closes both; a listener already handed to a server is closed twice,
// which is harmless.
func (l appListeners) close() {
	for _, ln := range []net.Listener{l.main, l.admin} {
		if ln != nil {
			ln.Close()
		}
	}
}

// listenApp returns app's listeners, inherited or bound on its listen and
// admin-listen addresses, with an error naming the application and the
// address that could not be bound.
func (in inherited) listenApp(app *config.Application) (appListeners, error) {
	var l appListeners
	var err error
	if l.main, err = in.listen(app.Name, app.Listen); err != nil {
		return l, fmt.Errorf("application %q cannot listen on %s: %w", app.Name, app.Listen, err)
	}
	if app.AdminListen == "" {
		return l, nil
	}
	if l.admin, err = in.listen(adminName(app.Name), app.AdminListen); err != nil {
		l.close()
		return appListeners{}, fmt.Errorf("application %q cannot listen on %s (admin-listen): %w", app.Name, app.AdminListen, err)
	}
	return l, nil
}

// files returns duplicates of l's descriptors and their names, in the
// order a child receives them (exec.Cmd.ExtraFiles): the caller closes the
// files once the child has started.
func (l appListeners) files(app string) ([]*os.File, []string, error) {
	var files []*os.File
	var names []string
	for _, x := range []struct {
		ln   net.Listener
		name string
	}{{l.main, app}, {l.admin, adminName(app)}} {
		if x.ln == nil {
			continue
		}
		f, err := service.ListenerFile(x.ln)
		if err != nil {
			closeFiles(files)
			return nil, nil, fmt.Errorf("application %q: %w", app, err)
		}
		files, names = append(files, f), append(names, x.name)
	}
	return files, names, nil
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

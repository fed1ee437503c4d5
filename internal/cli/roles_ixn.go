package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/ixn/ixnserver"
	"github.com/parley-chat/parley/internal/service"
)

// newInteractionServer wires an interaction-server application to the store
// of its database, to serve on ln.
func newInteractionServer(ctx context.Context, d *config.Deployment, app *config.Application, trust *service.Trust, ln net.Listener, log *slog.Logger) (service.Service, error) {
	if app.Database == "" {
		return nil, fmt.Errorf("application %q: an interaction-server needs a database", app.Name)
	}
	st, err := openStores(ctx, d, app.Database)
	if err != nil {
		return nil, fmt.Errorf("application %q: %w", app.Name, err)
	}
	warnDemoPasswords(app, log)
	srv, err := ixnserver.New(ixnserver.Config{
		Name: app.Name, Listen: app.Listen, Options: *app.Ixn, Store: st.interactions, Logger: log,
		Lock: primaryLock(d, app, st.interactions, log), Trust: trust,
		ChatServers: mediaServers(d, app), SubmitterNames: submitterNames(d, app),
	})
	if err != nil {
		st.close()
		return nil, fmt.Errorf("application %q: %w", app.Name, err)
	}
	return ixnApp{Func: func(ctx context.Context) error {
		defer st.close()
		return srv.Serve(ctx, ln)
	}, srv: srv}, nil
}

// primaryLock is the lock of an interaction server on PostgreSQL: any
// number of them may run on one database, one serves and the others wait
// as its backups (docs/ha.md). On SQLite there is no lock: one interaction
// server runs.
func primaryLock(d *config.Deployment, app *config.Application, store any, log *slog.Logger) ixnserver.Lock {
	db := d.Databases[app.Database]
	if db.Driver != "postgres" {
		return nil
	}
	lock := ixnserver.AdvisoryLock{DSN: d.DSN(db), Logger: log}
	if f, ok := store.(interface{ FenceTo(pid uint32) }); ok {
		lock.Acquired = f.FenceTo // writes stop with the lock, not a check later
	}
	return lock
}

// mediaServers returns the endpoints of the chat servers connected to the
// interaction server or proxy app (directly, or to a proxy of its node),
// by name: where a server relays ESP requests.
func mediaServers(d *config.Deployment, app *config.Application) map[string]service.Endpoint {
	eps := make(map[string]service.Endpoint)
	for name, c := range d.Applications {
		if c.Type == config.ChatServer && (d.Reaches(c, app.Name) || app.Type == config.InteractionServer && d.ServesChat(app, c)) {
			eps[name] = endpoint(d, name)
		}
	}
	return eps
}

// submitterNames returns the ixn-submittedby-name of each chat server
// connected to app that sets one, by chat server name.
func submitterNames(d *config.Deployment, app *config.Application) map[string]string {
	names := make(map[string]string)
	for name := range mediaServers(d, app) {
		if n := d.Applications[name].Chat.Settings.IxnSubmittedByName; n != "" {
			names[name] = n
		}
	}
	return names
}

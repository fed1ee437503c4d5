package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/chat/chatserver"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/store/postgres"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/transcript"
)

// newApplication builds the application app of deployment d: it opens the
// stores app needs and wires its role to them, to serve on ln (bound or
// inherited, TLS-wrapped by trust). ctx bounds the set-up only; the
// returned Service runs until the context given to its Run is done, and
// closes ln.
func newApplication(ctx context.Context, d *config.Deployment, app *config.Application, trust *service.Trust, ln net.Listener, log *slog.Logger) (service.Service, error) {
	switch app.Type {
	case config.ChatServer:
		return newChatServer(ctx, d, app, trust, ln, log)
	case config.WebAPI:
		return newWebAPI(ctx, d, app, trust, ln, log)
	case config.InteractionServer:
		return newInteractionServer(ctx, d, app, trust, ln, log)
	case config.InteractionProxy:
		return newInteractionProxy(ctx, d, app, trust, ln, log)
	case config.StatServer:
		return newStatServer(ctx, d, app, trust, ln, log)
	}
	return nil, fmt.Errorf("application %q: type %s is not available in this version", app.Name, app.Type)
}

func newChatServer(ctx context.Context, d *config.Deployment, app *config.Application, trust *service.Trust, ln net.Listener, log *slog.Logger) (service.Service, error) {
	set := app.Chat.Settings
	if set.SessionRestorationMode == "simple" && set.TranscriptAutoSave == 0 {
		log.Warn("[settings] session-restoration-mode = simple has no effect while transcript-auto-save = 0")
	}
	st, err := openStores(ctx, d, app.Database)
	if err != nil {
		return nil, fmt.Errorf("application %q: %w", app.Name, err)
	}
	srv, err := chatserver.New(chatserver.Config{
		Name: app.Name, Listen: app.Listen, Options: *app.Chat,
		Transcripts: st.transcripts, Contacts: st.contacts, Files: st.files, Availability: st.availability, Disabled: app.Disabled, Logger: log,
		Peers: endpointsOf(d, config.ChatServer), IxnServers: ixnEndpoints(d, app), IxnProxies: ixnProxies(d, app), Trust: trust,
		Pair: pairOf(d, app.Name, st.pairs),
	})
	if err != nil {
		st.close()
		return nil, fmt.Errorf("application %q: %w", app.Name, err)
	}
	return chatApp{Func: func(ctx context.Context) error {
		defer st.close()
		return srv.Serve(ctx, ln)
	}, srv: srv}, nil
}

// stores are the stores of one opened database; close releases it.
type stores struct {
	transcripts  transcript.Store
	contacts     contact.Store
	files        transcript.FileStore
	interactions ixn.Store
	availability chat.AvailabilityStore
	pairs        chat.PairStore
	close        func() error
}

// openStores opens a database of the deployment with its driver.
func openStores(ctx context.Context, d *config.Deployment, name string) (stores, error) {
	db := d.Databases[name]
	switch db.Driver {
	case "sqlite":
		s, err := sqlite.Open(ctx, d.DSN(db))
		if err != nil {
			return stores{}, fmt.Errorf("database %q: %w", name, err)
		}
		return stores{s.Transcripts(), s.Contacts(), s.Files(), s.Interactions(), s.Availability(), s.Pairs(), s.Close}, nil
	case "postgres":
		s, err := postgres.Open(ctx, d.DSN(db))
		if err != nil {
			return stores{}, fmt.Errorf("database %q: %w", name, err)
		}
		return stores{s.Transcripts(), s.Contacts(), s.Files(), s.Interactions(), s.Availability(), s.Pairs(), s.Close}, nil
	}
	return stores{}, fmt.Errorf("database %q: unknown driver %q", name, db.Driver)
}

// listenAddrs returns the listen addresses of the deployment's applications
// of type t, by name.
func listenAddrs(d *config.Deployment, t config.AppType) map[string]string {
	addrs := make(map[string]string)
	for name, app := range d.Applications {
		if app.Type == t {
			addrs[name] = app.Listen
		}
	}
	return addrs
}

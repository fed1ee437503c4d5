package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/webapi"
)

// newWebAPI builds a web API, to serve on ln, whose chat servers and
// interaction servers (for the agent desktops) are the applications it
// connects to, at their listen addresses, and the backup of each chat
// server that has one: the web API is connected to the primary only and
// finds the backup in the primary's entry; a backup takes no chat until it
// serves as the primary (docs/ha.md).
func newWebAPI(_ context.Context, d *config.Deployment, app *config.Application, trust *service.Trust, ln net.Listener, log *slog.Logger) (service.Service, error) {
	chats := make(map[string]service.Endpoint, len(app.Connections))
	for _, name := range app.Connections {
		if c := d.Applications[name]; c != nil && c.Type == config.ChatServer {
			chats[name] = endpoint(d, name)
			if c.Backup != "" { // learnt from the primary's entry, as GMS reads it from the configuration
				chats[c.Backup] = endpoint(d, c.Backup)
			}
		}
	}
	if len(chats) == 0 {
		log.Warn("the web api connects to no chat server: every chat request will fail")
	}
	ixns := ixnEndpoints(d, app)
	if len(ixns) == 0 {
		log.Info("the web api connects to no interaction server: agents cannot log in to the desktop")
	}
	srv, err := webapi.New(webapi.Config{Name: app.Name, Listen: app.Listen, ChatServers: chats, IxnServers: ixns,
		StatServers: statEndpoints(d, app), Options: *app.Web, Logger: log, Trust: trust})
	if err != nil {
		return nil, fmt.Errorf("application %q: %w", app.Name, err)
	}
	return webApp{Func: func(ctx context.Context) error { return srv.Serve(ctx, ln) }, srv: srv}, nil
}

// webApp is a web API as run runs it.
type webApp struct {
	service.Func
	srv *webapi.Server
}

// MonitoringHandler is the web API's admin listener handler.
func (a webApp) MonitoringHandler() http.Handler { return a.srv.MonitoringHandler() }

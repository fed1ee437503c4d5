package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/webapi"
)

// newWebAPI builds a web API whose chat servers and interaction servers (for
// the agent desktops) are the applications it connects to, at their listen
// addresses.
func newWebAPI(_ context.Context, d *config.Deployment, app *config.Application, trust *service.Trust, log *slog.Logger) (service.Service, error) {
	chats := make(map[string]service.Endpoint, len(app.Connections))
	for _, name := range app.Connections {
		if c := d.Applications[name]; c != nil && c.Type == config.ChatServer {
			chats[name] = endpoint(d, name)
		}
	}
	if len(chats) == 0 {
		log.Warn("the web api connects to no chat server: every chat request will fail")
	}
	ixns := ixnEndpoints(d, app)
	if len(ixns) == 0 {
		log.Info("the web api connects to no interaction server: agents cannot log in to the desktop")
	}
	srv, err := webapi.New(webapi.Config{Name: app.Name, Listen: app.Listen, ChatServers: chats, IxnServers: ixns, Options: *app.Web, Logger: log, Trust: trust})
	if err != nil {
		return nil, fmt.Errorf("application %q: %w", app.Name, err)
	}
	return srv, nil
}

package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/ixn/ixnserver"
	"github.com/parley-chat/parley/internal/service"
)

// newInteractionServer wires an interaction-server application to the store
// of its database.
func newInteractionServer(ctx context.Context, d *config.Deployment, app *config.Application, log *slog.Logger) (service.Service, error) {
	if app.Database == "" {
		return nil, fmt.Errorf("application %q: an interaction-server needs a database", app.Name)
	}
	st, err := openStores(ctx, d, app.Database)
	if err != nil {
		return nil, fmt.Errorf("application %q: %w", app.Name, err)
	}
	srv, err := ixnserver.New(ixnserver.Config{
		Name: app.Name, Listen: app.Listen, Options: *app.Ixn, Store: st.interactions, Logger: log,
	})
	if err != nil {
		st.close()
		return nil, fmt.Errorf("application %q: %w", app.Name, err)
	}
	return service.Func(func(ctx context.Context) error {
		defer st.close()
		return srv.Run(ctx)
	}), nil
}

package cli

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/stat/statserver"
	"github.com/parley-chat/parley/internal/wire"
)

// newStatServer wires a stat-server application to the reporting stream of
// the interaction servers it connects to and, in a hot standby pair, to its
// peer, to serve on ln.
func newStatServer(_ context.Context, d *config.Deployment, app *config.Application, trust *service.Trust, ln net.Listener, log *slog.Logger) (service.Service, error) {
	agents, queues := statObjects(d, app)
	sc, errs := app.Stat.Definitions(agents, queues)
	if len(errs) > 0 {
		return nil, fmt.Errorf("application %q: %w", app.Name, errs[0])
	}
	set := app.Stat.Settings
	cfg := statserver.Config{Name: app.Name, Options: *app.Stat, Stat: sc, Logger: log, Trust: trust,
		Source: &statserver.IxnSource{Name: app.Name, Endpoints: ixnEndpoints(d, app), Trust: trust,
			Options: wire.Options{MaxMessageSize: 1 << 20, PingInterval: set.ADDPTimeout, QueueSize: 16384, Logger: log}}}
	if p := d.StatPrimary(app); p != nil {
		ep := endpoint(d, p.Name)
		if l := p.Stat.HA.Listen; l != "" {
			ep.Addr = dialAddr(l)
		}
		cfg.Peer, cfg.Backup = &ep, true
	} else if b := d.StatBackup(app); b != nil {
		ep := endpoint(d, b.Name)
		cfg.Peer = &ep
		if l := app.Stat.HA.Listen; l != "" {
			haLn, err := trust.Listen(l)
			if err != nil {
				return nil, fmt.Errorf("application %q: [ha] listen: %w", app.Name, err)
			}
			cfg.HAListener = haLn
		}
	}
	srv, err := statserver.New(cfg)
	if err != nil {
		if cfg.HAListener != nil {
			cfg.HAListener.Close()
		}
		return nil, fmt.Errorf("application %q: %w", app.Name, err)
	}
	return statApp{Func: func(ctx context.Context) error { return srv.Serve(ctx, ln) }, srv: srv}, nil
}

// statObjects returns the agents and queues of the interaction servers app
// connects to: the objects its statistics may be about.
func statObjects(d *config.Deployment, app *config.Application) (agents, queues []string) {
	seenA, seenQ := map[string]bool{}, map[string]bool{}
	for _, name := range app.Connections {
		ixn := d.Applications[name]
		if ixn == nil || ixn.Ixn == nil {
			continue
		}
		for _, a := range slices.Sorted(maps.Keys(ixn.Ixn.Agents)) {
			seenA[a] = true
		}
		for _, q := range ixn.Ixn.QueueNames() {
			seenQ[q] = true
		}
	}
	return slices.Sorted(maps.Keys(seenA)), slices.Sorted(maps.Keys(seenQ))
}

// statApp is a stat server as run runs it.
type statApp struct {
	service.Func
	srv *statserver.Server
}

// MonitoringHandler is the stat server's admin listener handler.
func (a statApp) MonitoringHandler() http.Handler { return a.srv.MonitoringHandler() }

// statEndpoints returns the stat servers app connects to, each primary
// before its backup.
func statEndpoints(d *config.Deployment, app *config.Application) []service.Endpoint {
	var primaries, backups []service.Endpoint
	for _, name := range app.Connections {
		c := d.Applications[name]
		switch {
		case c == nil || c.Type != config.StatServer:
		case d.StatPrimary(c) != nil:
			backups = append(backups, endpoint(d, name))
		default:
			primaries = append(primaries, endpoint(d, name))
		}
	}
	return append(primaries, backups...)
}

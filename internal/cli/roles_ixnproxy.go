package cli

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/ixn/ixnproxy"
	"github.com/parley-chat/parley/internal/service"
)

// newInteractionProxy wires an interaction-proxy application to the nodes
// of its cluster, to serve on ln.
func newInteractionProxy(_ context.Context, d *config.Deployment, app *config.Application, trust *service.Trust, ln net.Listener, log *slog.Logger) (service.Service, error) {
	var nodes []ixnproxy.Node
	for _, n := range d.ProxyNodes(app) {
		node := ixnproxy.Node{Name: n.Database, MediaTypes: n.Settings.MediaList(), Tenants: n.Settings.TenantList()}
		for _, name := range n.Servers {
			node.Servers = append(node.Servers, endpoint(d, name))
		}
		nodes = append(nodes, node)
	}
	p, err := ixnproxy.New(ixnproxy.Config{Name: app.Name, Listen: app.Listen, Nodes: nodes, Options: *app.Proxy,
		Logger: log, Trust: trust, SubmitterNames: submitterNames(d, app)})
	if err != nil {
		return nil, fmt.Errorf("application %q: %w", app.Name, err)
	}
	return proxyApp{Func: func(ctx context.Context) error { return p.Serve(ctx, ln) }, p: p}, nil
}

// proxyApp is an interaction proxy as run runs it.
type proxyApp struct {
	service.Func
	p *ixnproxy.Proxy
}

// MonitoringHandler is the proxy's admin listener handler.
func (a proxyApp) MonitoringHandler() http.Handler { return a.p.MonitoringHandler() }

// ixnEndpoints returns the interaction servers app connects to (one, or the
// two of a primary/backup pair), or the interaction proxies, with those of
// a proxy cluster in a random order: a client takes the first that answers
// and moves on to the next when it fails.
func ixnEndpoints(d *config.Deployment, app *config.Application) []service.Endpoint {
	names, proxies := d.IxnConnections(app)
	eps := make([]service.Endpoint, 0, len(names))
	for _, name := range names {
		eps = append(eps, endpoint(d, name))
	}
	if proxies {
		rand.Shuffle(len(eps), func(i, j int) { eps[i], eps[j] = eps[j], eps[i] })
	}
	return eps
}

// ixnProxies reports whether app reaches the interaction servers through
// proxies.
func ixnProxies(d *config.Deployment, app *config.Application) bool {
	_, proxies := d.IxnConnections(app)
	return proxies
}

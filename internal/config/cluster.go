package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// ApplicationCluster is the type of an Application Cluster entry (the
// seed's configuration object of that type): no process of its own, only
// connections to the members of a cluster, whose kind its
// [cluster-settings] cluster-type names.
const ApplicationCluster AppType = "application-cluster"

// Values of an application cluster's cluster-type.
const (
	ClusterOfServers = "interaction-server" // members: the primary interaction servers of the nodes
	ClusterOfProxies = "interaction-proxy"  // members: interaction proxies
)

// NodeSettings is the [cluster-settings] section of an interaction server:
// what the proxies route to its node. The node's servers do not act on it
// except to refuse a submission of a media type or tenant it does not take.
type NodeSettings struct {
	// MediaTypes is media-types, default empty (every media type): the
	// comma-separated media types the node takes.
	MediaTypes string
	// Tenants is tenants (parley's spelling of the application's tenant
	// list), default empty (every tenant): the comma-separated tenants the
	// node serves.
	Tenants string
}

// MediaList returns the media types the node takes; nil means all.
func (n NodeSettings) MediaList() []string { return commaList(n.MediaTypes) }

// TenantList returns the tenants the node serves; nil means all.
func (n NodeSettings) TenantList() []string { return commaList(n.Tenants) }

func commaList(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (n *NodeSettings) section() section {
	return section{"media-types": &n.MediaTypes, "tenants": &n.Tenants}
}

func (n NodeSettings) validate() []*Error {
	var errs []*Error
	for option, list := range map[string][]string{"media-types": n.MediaList(), "tenants": n.TenantList()} {
		for _, v := range list {
			if !validName.MatchString(v) {
				errs = append(errs, &Error{Section: "cluster-settings", Option: option, Value: v,
					Msg: "invalid name (letters, digits, '.', '_', '-')"})
			}
		}
	}
	slices.SortFunc(errs, func(a, b *Error) int { return strings.Compare(a.Option, b.Option) })
	return errs
}

// ClusterOptions is the option section of an application-cluster entry.
type ClusterOptions struct {
	// Type is [cluster-settings] cluster-type, required: interaction-server
	// or interaction-proxy.
	Type string
}

func (c *ClusterOptions) section() section { return section{"cluster-type": &c.Type} }

func (c ClusterOptions) validate() []*Error {
	if c.Type == "" {
		return []*Error{{Section: "cluster-settings", Option: "cluster-type", Msg: "missing (want interaction-server or interaction-proxy)"}}
	}
	return collect("cluster-settings", oneOf("cluster-type", c.Type, ClusterOfServers, ClusterOfProxies))
}

// ProxyOptions holds the [settings] of an interaction-proxy.
type ProxyOptions struct {
	// PullHoldTimeout is pull-hold-timeout, 1-600 s, default 10 s: the
	// longest the proxy waits for one node's reply to a RequestPull before
	// it goes on to the next node; it overrides the nodes' own.
	PullHoldTimeout time.Duration
	// RequestTimeout is request-timeout (parley's), 1-600 s, default 10 s:
	// the longest the proxy waits for a node's reply to any other request;
	// a node that does not answer in time counts as one it cannot ask.
	RequestTimeout time.Duration
	// CacheSize is interaction-cache-size (parley's name for the seed's
	// cache of interactions and their nodes), 100-10000000, default 10000:
	// the interactions whose node the proxy remembers, the oldest forgotten
	// first.
	CacheSize int
	// MaxMessageSize is max-message-size, 1024-16777216 bytes, default 65536.
	MaxMessageSize int
	// ADDPTimeout is addp-timeout, 0-3600 s, default 10 s: the keep-alive
	// ping interval on the proxy's connections; 0 turns pings off.
	ADDPTimeout time.Duration
}

// DefaultProxyOptions returns every interaction-proxy option at its default.
func DefaultProxyOptions() ProxyOptions {
	return ProxyOptions{PullHoldTimeout: 10 * time.Second, RequestTimeout: 10 * time.Second, CacheSize: 10000,
		MaxMessageSize: 65536, ADDPTimeout: 10 * time.Second}
}

func (p *ProxyOptions) section() section {
	return section{"pull-hold-timeout": &p.PullHoldTimeout, "request-timeout": &p.RequestTimeout,
		"interaction-cache-size": &p.CacheSize, "max-message-size": &p.MaxMessageSize, "addp-timeout": &p.ADDPTimeout}
}

func (p ProxyOptions) validate() []*Error {
	return collect("settings",
		secondsIn("pull-hold-timeout", p.PullHoldTimeout, 1, 600),
		secondsIn("request-timeout", p.RequestTimeout, 1, 600),
		intIn("interaction-cache-size", p.CacheSize, 100, 10000000),
		intIn("max-message-size", p.MaxMessageSize, 1024, 16777216),
		secondsIn("addp-timeout", p.ADDPTimeout, 0, 3600),
	)
}

// Node is one node of an interaction server cluster: the interaction
// servers on one database (a primary/backup pair on PostgreSQL, a single
// server on SQLite), with the node's cluster settings.
type Node struct {
	Database string   // the node's database, which names it
	Servers  []string // its interaction servers, sorted
	Settings NodeSettings
}

// ProxyNodes returns the nodes the interaction proxy app connects to: the
// interaction servers it names directly and the members of the
// interaction-server clusters it names, grouped by database (every server
// of a node's pair, also one the connections do not name), sorted by
// database.
func (d *Deployment) ProxyNodes(app *Application) []Node {
	dbs := map[string]bool{}
	for _, name := range d.expand(app.Connections, ClusterOfServers) {
		if s := d.Applications[name]; s != nil && s.Type == InteractionServer && s.Database != "" {
			dbs[s.Database] = true
		}
	}
	var nodes []Node
	for _, db := range slices.Sorted(maps.Keys(dbs)) {
		n := Node{Database: db}
		for _, name := range d.Names() {
			if s := d.Applications[name]; s.Type == InteractionServer && s.Database == db {
				n.Servers = append(n.Servers, name)
				if s.Ixn != nil && n.Settings == (NodeSettings{}) {
					n.Settings = s.Ixn.Cluster
				}
			}
		}
		nodes = append(nodes, n)
	}
	return nodes
}

// expand returns names with every application cluster of kind among them
// replaced by its members, in order, each name once.
func (d *Deployment) expand(names []string, kind string) []string {
	var out []string
	add := func(name string) {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, name := range names {
		a := d.Applications[name]
		if a == nil || a.Type != ApplicationCluster || a.Cluster == nil || a.Cluster.Type != kind {
			add(name)
			continue
		}
		for _, member := range a.Connections {
			add(member)
		}
	}
	return out
}

// Reaches reports whether from connects to the application called to,
// directly or through an application cluster that has it as a member.
func (d *Deployment) Reaches(from *Application, to string) bool {
	return slices.Contains(d.expand(d.expand(from.Connections, ClusterOfServers), ClusterOfProxies), to)
}

// ReachesNode reports whether the proxy from connects to the node of the
// interaction server called to: to itself, or another server on its
// database (a cluster names only the primaries; their backups serve the
// same node).
func (d *Deployment) ReachesNode(from *Application, to string) bool {
	target := d.Applications[to]
	if target == nil || target.Type != InteractionServer {
		return false
	}
	for _, name := range d.expand(from.Connections, ClusterOfServers) {
		if a := d.Applications[name]; a != nil && a.Type == InteractionServer && (name == to || a.Database != "" && a.Database == target.Database) {
			return true
		}
	}
	return false
}

// ServesChat reports whether the interaction server node takes chat's
// submissions: chat connects to it, or to a proxy that reaches its node.
func (d *Deployment) ServesChat(node, chat *Application) bool {
	if d.Reaches(chat, node.Name) {
		return true
	}
	names, _ := d.IxnConnections(chat)
	for _, name := range names {
		if p := d.Applications[name]; p.Type == InteractionProxy && d.ReachesNode(p, node.Name) {
			return true
		}
	}
	return false
}

// IxnConnections returns the interaction servers and proxies app (a chat
// server or web API) connects to, with each interaction-proxy cluster it
// names replaced by its proxies, and whether they are proxies.
func (d *Deployment) IxnConnections(app *Application) (names []string, proxies bool) {
	for _, name := range d.expand(app.Connections, ClusterOfProxies) {
		switch a := d.Applications[name]; {
		case a == nil:
		case a.Type == InteractionServer:
			names = append(names, name)
		case a.Type == InteractionProxy:
			names, proxies = append(names, name), true
		}
	}
	return names, proxies
}

// checkClusterConnections checks the connections of clusters and proxies:
// a cluster's members are of its kind; a proxy reaches at least one node,
// and its nodes agree on their settings.
func (d *Deployment) checkClusterConnections(a *Application) []*Error {
	switch {
	case a.Type == ApplicationCluster && a.Cluster != nil:
		want := map[string]AppType{ClusterOfServers: InteractionServer, ClusterOfProxies: InteractionProxy}[a.Cluster.Type]
		var errs []*Error
		for _, c := range a.Connections {
			if other, ok := d.Applications[c]; ok && other.Type != want && want != "" {
				errs = append(errs, &Error{Option: "connections", Value: c,
					Msg: fmt.Sprintf("a cluster of type %s connects to %s applications only (this is a %s)", a.Cluster.Type, want, other.Type)})
			}
		}
		return errs
	case a.Type == InteractionProxy:
		if len(d.ProxyNodes(a)) == 0 {
			return []*Error{{Option: "connections", Msg: "an interaction-proxy needs interaction servers or an interaction-server cluster"}}
		}
		return d.checkNodes(a)
	case a.Type == ChatServer:
		return d.checkChatNodes(a)
	}
	return nil
}

// checkChatNodes refuses a chat server whose proxies reach no node that
// takes its chats (media type chat, no tenant), and proxies of one chat
// server that reach different nodes.
func (d *Deployment) checkChatNodes(a *Application) []*Error {
	names, proxies := d.IxnConnections(a)
	if !proxies {
		return nil
	}
	var errs []*Error
	var first []Node
	for _, name := range names {
		p := d.Applications[name]
		if p.Type != InteractionProxy {
			continue
		}
		nodes := d.ProxyNodes(p)
		if first == nil {
			first = nodes
		} else if !slices.EqualFunc(first, nodes, func(x, y Node) bool { return x.Database == y.Database }) {
			errs = append(errs, &Error{Option: "connections", Value: name, Msg: "this proxy reaches other nodes than the chat server's other proxies"})
		}
		if !slices.ContainsFunc(nodes, func(n Node) bool {
			m, t := n.Settings.MediaList(), n.Settings.TenantList()
			return (m == nil || slices.Contains(m, "chat")) && t == nil
		}) {
			errs = append(errs, &Error{Option: "connections", Value: name,
				Msg: "no node of this proxy takes media type chat for every tenant ([cluster-settings] media-types, tenants)"})
		}
	}
	return errs
}

// checkNodes refuses a node whose servers disagree on their cluster
// settings: the proxy routes by one.
func (d *Deployment) checkNodes(a *Application) []*Error {
	var errs []*Error
	for _, n := range d.ProxyNodes(a) {
		for _, name := range n.Servers {
			if s := d.Applications[name]; s.Ixn != nil && s.Ixn.Cluster != n.Settings {
				errs = append(errs, &Error{Option: "connections", Value: name,
					Msg: fmt.Sprintf("its [cluster-settings] differ from those of %s, on the same database", n.Servers[0])})
			}
		}
	}
	return errs
}

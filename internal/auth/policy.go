package auth

import "slices"

// Role is what a peer is admitted to do on a server. The deployment file
// decides who has which: an application's type and its connections, and
// the client:<name> sections of the server's options.
type Role string

// The roles.
const (
	// RoleWebAPI is a web API on a chat server it connects to: the
	// customer side (/wire/flex), status, file transfer and session
	// locations.
	RoleWebAPI Role = "web-api"
	// RoleAgent is a web API's agent desktop bridge: agents log in on the
	// interaction servers it connects to, and join on its chat servers the
	// chats granted to them.
	RoleAgent Role = "agent"
	// RoleMediaServer is a chat server on an interaction server it connects
	// to: it submits its chats and receives their events.
	RoleMediaServer Role = "media-server"
	// RoleChatPeer is another chat server of the deployment: it asks where a
	// session lives and purges sessions it restored.
	RoleChatPeer Role = "chat-peer"
	// RoleRouting is an external routing client of an interaction server.
	RoleRouting Role = "routing"
	// RoleReporting is a reporting client of an interaction server: it reads
	// the reporting event stream.
	RoleReporting Role = "reporting"
	// RoleInteractionProxy is an interaction proxy on the interaction
	// servers of its cluster: it registers, on each, the clients it admitted
	// itself, under their names and in their types.
	RoleInteractionProxy Role = "interaction-proxy"
	// RoleStatClient is a client of a stat server: it opens statistics and
	// reads their values (a web API's dashboards and wallboard, or an
	// external stat-client).
	RoleStatClient Role = "stat-client"
	// RoleStatPeer is the other stat server of a hot standby pair on the
	// replication link.
	RoleStatPeer Role = "stat-peer"
	// RoleESP is an interaction server on a chat server connected to it: it
	// relays the ESP requests of workflows into the chats there.
	RoleESP Role = "esp"
	// RoleBot is an external client of a chat server that joins sessions as
	// an External party.
	RoleBot Role = "bot"
)

// Identity is a peer admitted by a Gate.
type Identity struct {
	// Name is the application or client name the peer proved.
	Name string
	// Roles are what the server admits it as.
	Roles []Role
	// External is set for a client:<name> client, not a parley application.
	External bool
	// Certificate is set when a client certificate proved the name.
	Certificate bool
}

// Has reports whether id was admitted in role r.
func (id Identity) Has(r Role) bool { return slices.Contains(id.Roles, r) }

// Policy is who a server admits, by name, in which roles. It is built once
// from the deployment file and then only read: it is safe for concurrent
// use after the last Allow.
type Policy struct {
	server string
	peers  map[string]*peerEntry
}

type peerEntry struct {
	roles    []Role
	external bool
}

// NewPolicy returns an empty policy of the server called server.
func NewPolicy(server string) *Policy {
	return &Policy{server: server, peers: make(map[string]*peerEntry)}
}

// Server returns the name of the server the policy is for.
func (p *Policy) Server() string { return p.server }

// Allow admits the parley application peer in roles.
func (p *Policy) Allow(peer string, roles ...Role) { p.add(peer, false, roles) }

// AllowClient admits the external client peer, which proves itself with its
// ClientKey, in roles.
func (p *Policy) AllowClient(peer string, roles ...Role) { p.add(peer, true, roles) }

func (p *Policy) add(peer string, external bool, roles []Role) {
	e := p.peers[peer]
	if e == nil {
		e = &peerEntry{external: external}
		p.peers[peer] = e
	}
	for _, r := range roles {
		if !slices.Contains(e.roles, r) {
			e.roles = append(e.roles, r)
		}
	}
}

// identity returns what peer is admitted as; ok is false for a stranger.
func (p *Policy) identity(peer string) (Identity, bool) {
	e := p.peers[peer]
	if e == nil {
		return Identity{}, false
	}
	return Identity{Name: peer, Roles: slices.Clone(e.roles), External: e.external}, true
}

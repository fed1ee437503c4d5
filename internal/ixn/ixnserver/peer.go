package ixnserver

import (
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/ixn"
	"github.com/parley-chat/parley/internal/wire"
)

// Client types of RequestRegisterClient.
const (
	kindMediaServer = "media-server"
	kindAgent       = "agent"
	kindRouting     = "routing"
	kindReporting   = "reporting"
)

// peer is one wire connection. Its fields are guarded by Server.mu.
type peer struct {
	conn *wire.Conn
	id   auth.Identity // who the connection proved to be

	name     string         // clientName; empty until registered
	kind     string         // clientType
	agent    string         // the agent logged in on it, if any
	cred     ixn.Credential // from the RequestAgentLogin being served, checked before s.mu was taken
	watching map[string]bool
	workbins map[string]bool // workbinKey of each RequestWorkbinNotifications
}

// set is a set of peers.
type set map[*peer]struct{}

// index maps a key (client name, agent id, interaction id) to its peers.
type index map[string]set

func (x index) add(key string, p *peer) {
	if x[key] == nil {
		x[key] = set{}
	}
	x[key][p] = struct{}{}
}

// remove drops p under key and reports whether key has no peer left.
func (x index) remove(key string, p *peer) bool {
	delete(x[key], p)
	if len(x[key]) == 0 {
		delete(x, key)
		return true
	}
	return false
}

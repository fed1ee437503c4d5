package ixnserver

import (
	"github.com/parley-chat/parley/internal/auth"
)

// peerRoles are the roles /wire/ixn admits; RequestRegisterClient then
// narrows each peer to the client type its role gives it (admitClient).
var peerRoles = []auth.Role{auth.RoleMediaServer, auth.RoleAgent, auth.RoleRouting, auth.RoleReporting, auth.RoleInteractionProxy}

// admitClient checks a registration against who the connection proved to
// be: a chat server registers as the media server of its own name (or of
// its ixn-submittedby-name), a web
// API's desktop bridge registers agents under its name ("<web api>/<agent>"),
// and a routing or reporting client under its own name. So no connection
// can take another client's events or act in a role it was not given.
func admitClient(id auth.Identity, req registerRequest, submitterNames map[string]string) error {
	if id.Has(auth.RoleInteractionProxy) {
		return nil // the proxy admitted the client itself (auth.AdmitIxnClient) before it registered it here
	}
	return auth.AdmitIxnClient(id, req.ClientName, req.ClientType, submitterNames[id.Name])
}

// grant signs what lets agent join the chat of interaction id, or returns
// "" without a Trust. s.mu must be held.
func (s *Server) grant(agent, id string) string {
	if s.cfg.Trust == nil {
		return ""
	}
	return s.cfg.Trust.Key.SignGrant(auth.Grant{Agent: agent, Session: id, PartyType: "Agent", Visibility: "ALL",
		Expires: s.clock.Now().Add(auth.DefaultGrantTTL)})
}

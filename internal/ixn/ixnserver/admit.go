package ixnserver

import (
	"strings"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/wire"
)

// peerRoles are the roles /wire/ixn admits; RequestRegisterClient then
// narrows each peer to the client type its role gives it (admitClient).
var peerRoles = []auth.Role{auth.RoleMediaServer, auth.RoleAgent, auth.RoleRouting, auth.RoleReporting, auth.RoleInteractionProxy}

// admitClient checks a registration against who the connection proved to
// be: a chat server registers as the media server of its own name, a web
// API's desktop bridge registers agents under its name ("<web api>/<agent>"),
// and a routing or reporting client under its own name. So no connection
// can take another client's events or act in a role it was not given.
func admitClient(id auth.Identity, req registerRequest) error {
	if id.Has(auth.RoleInteractionProxy) {
		return nil // the proxy admitted the client itself (AdmitClient) before it registered it here
	}
	return AdmitClient(id, req.ClientName, req.ClientType)
}

// AdmitClient checks that the peer id may register as clientName of
// clientType: what an interaction server, and an interaction proxy for the
// clients it serves, admit.
func AdmitClient(id auth.Identity, clientName, clientType string) error {
	req := registerRequest{ClientName: clientName, ClientType: clientType}
	var role auth.Role
	nameOK := req.ClientName == id.Name
	switch req.ClientType {
	case kindMediaServer:
		role = auth.RoleMediaServer
	case kindAgent:
		role, nameOK = auth.RoleAgent, strings.HasPrefix(req.ClientName, id.Name+"/")
	case kindRouting:
		role = auth.RoleRouting
	case kindReporting:
		role = auth.RoleReporting
	}
	switch {
	case !id.Has(role):
		return wire.Errorf(wire.CodeRoleRefused, "%q may not register as a %s client", id.Name, req.ClientType)
	case id.Name != "" && !nameOK:
		return wire.Errorf(wire.CodeRoleRefused, "%q may not register under the name %q", id.Name, req.ClientName)
	}
	return nil
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

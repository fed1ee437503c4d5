package auth

import (
	"strings"

	"github.com/parley-chat/parley/internal/wire"
)

// AdmitIxnClient checks that the peer id may register as clientName of
// clientType: what an interaction server, and an interaction proxy for the
// clients it serves, admit. A media server may also register under alias,
// its ixn-submittedby-name, when it has one.
func AdmitIxnClient(id Identity, clientName, clientType, alias string) error {
	var role Role
	nameOK := clientName == id.Name
	switch clientType {
	case "media-server":
		role = RoleMediaServer
		nameOK = nameOK || alias != "" && clientName == alias
	case "agent":
		role, nameOK = RoleAgent, strings.HasPrefix(clientName, id.Name+"/")
	case "routing":
		role = RoleRouting
	case "reporting":
		role = RoleReporting
	}
	switch {
	case !id.Has(role):
		return wire.Errorf(wire.CodeRoleRefused, "%q may not register as a %s client", id.Name, clientType)
	case id.Name != "" && !nameOK:
		return wire.Errorf(wire.CodeRoleRefused, "%q may not register under the name %q", id.Name, clientName)
	}
	return nil
}

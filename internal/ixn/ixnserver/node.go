package ixnserver

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"slices"

	"github.com/parley-chat/parley/internal/wire"
)

// takes refuses a submission of a media type or tenant the node's
// [cluster-settings] leave out (2001): a proxy never sends one, so it comes
// from a client that bypassed the proxies.
func (s *Server) takes(mediaType, tenant string) error {
	c := s.cfg.Options.Cluster
	media := cmp.Or(mediaType, "chat")
	if list := c.MediaList(); list != nil && !slices.Contains(list, media) {
		return wire.Errorf(wire.CodeNoServerForMedia, "this interaction server does not take media type %q", media)
	}
	if list := c.TenantList(); list != nil && !slices.Contains(list, tenant) {
		return wire.Errorf(wire.CodeNoServerForMedia, "this interaction server does not serve tenant %q", tenant)
	}
	return nil
}

// newID makes the id of an interaction submitted without one: the server's
// name, unique in the deployment, then 16 random hex digits, so that the
// ids the nodes of a cluster make never meet.
func (s *Server) newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return s.cfg.Name + "-" + hex.EncodeToString(b)
}

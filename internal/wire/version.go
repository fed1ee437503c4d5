package wire

import (
	"net/http"
	"strconv"
)

// Version is the version of the protocol this build speaks. Each side of a
// connection sends it in the WebSocket upgrade (VersionHeader), and
// [Conn.PeerVersion] returns the other side's, so that in a rolling
// upgrade, where an older and a newer parley talk, the newer one can keep
// to what the older one understands. The rule: a version only adds
// messages and optional fields, and a side sends what version N added only
// to a peer of version N or later (an older peer's strict decoder refuses
// an unknown field with 102); what an older peer sends, a newer one always
// accepts.
//
// Version 1 is every parley before the version was carried; 2 added the
// header itself.
const Version = 2

// VersionHeader is the HTTP header of the WebSocket upgrade, request and
// response, that carries a side's Version.
const VersionHeader = "Parley-Wire-Version"

// headerVersion reads the version a peer sent in h: 1, the version before
// the header, when it sent none or one that is not a positive number.
func headerVersion(h http.Header) int {
	v, err := strconv.Atoi(h.Get(VersionHeader))
	if err != nil || v < 1 {
		return 1
	}
	return v
}

// PeerVersion returns the protocol version of the other side of c, as it
// announced it when the connection opened (1 for a peer that did not).
func (c *Conn) PeerVersion() int { return c.peerVersion }

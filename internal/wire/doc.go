// Package wire owns parley's one framed protocol, used between parley's own
// servers and from agent desktops: JSON messages over WebSocket, requests and
// replies correlated by a reference id, unsolicited events, and keep-alive
// pings that detect a dead peer (the role of Genesys ADDP).
//
// It owns the message catalogue (names with their Genesys ids), the catalogue
// of error codes that cross the wire ([Code], [Error]), the strict decoder
// ([Decode]), the connection ([Conn]: one reader, one queued batching writer)
// and the reconnecting [Client].
//
// A frame is a WebSocket text message holding one or more messages, one per
// line, each a compact JSON object:
//
//	{"name":"RequestJoin","ref":7,"body":{"sessionId":"..."}}
//
// A writer joins messages queued together into one frame, separated by '\n',
// so that a burst costs one write instead of many; a reader accepts one or
// many messages per frame. A message must therefore not contain a raw newline,
// which compact JSON (json.Marshal, JSON.stringify) never does.
package wire

// Package bayeux owns parley's CometD server: the Bayeux 1.0 protocol as the
// official CometD JavaScript client (8.x) speaks it, with its meta channels
// (/meta/handshake, /meta/connect, /meta/subscribe, /meta/unsubscribe,
// /meta/disconnect), the websocket, long-polling and callback-polling
// transports, the registry
// of clients with their bounded queues and held connects, session expiry,
// subscriptions with broadcast between clients, and the routing of publishes
// on service channels to a [ServiceFunc]. It knows nothing about chat: the
// web API mounts a [Server] and serves its channels through HandleService
// and [Client.Deliver].
//
// # Transports
//
// The transports carry the same JSON: a message object or an array of
// them. Mount the Server at "/prefix" and "/prefix/": clients that append
// the message type to the URL ("/prefix/handshake", "/prefix/connect") reach
// it, and the path is ignored; the channel of each message decides.
//
//   - long-polling: a POST whose body is the JSON (any Content-Type; the JS
//     client sends application/json or text/plain). The answer is always
//     HTTP 200 with a JSON array holding the replies in order, except for a
//     body that is not JSON at all (HTTP 400) or is larger than 16 times
//     MaxMessageSize (HTTP 413). A /meta/connect is held until a message is
//     queued for the client, the client connects again, or Timeout passes;
//     it is then answered with the queued messages followed by the connect
//     reply. A client may have other requests in flight while its connect is
//     held.
//   - callback-polling (JSONP, for pages that may not use the other two
//     across origins): a GET whose query carries the JSON in message and a
//     callback name in jsonp (a JavaScript identifier path of at most 128
//     bytes; anything else is HTTP 400, so that the answer can only call
//     it). It is long polling in every other respect, the same size limit
//     (413) included; the answer is text/javascript:
//     "/**/callback([...]);". A browser loads it as a script, without an
//     Origin header: such a request is checked by its Referer's origin
//     when it has one (see Options.CheckOrigin), and any page can make
//     one, so nothing a callback-polling client may do must rest on the
//     browser's ambient credentials (the Server uses no cookies).
//   - websocket: a GET with Upgrade: websocket; frames are text frames of
//     JSON arrays both ways. Replies and deliveries are written as soon as
//     they are queued, by a writer goroutine owned by the connection; the
//     connect reply alone is held until Timeout, as on long-polling. A frame
//     larger than 16 times MaxMessageSize closes the websocket (1009).
//
// The first /meta/connect after a handshake, and any connect whose advice
// asks for a timeout of 0, is answered at once. A new connect from a client
// whose previous one is still held answers the old one at once.
//
// # Advice
//
// Handshake and connect replies carry {reconnect:"retry", interval,
// timeout, maxInterval} in milliseconds from Options. A 402 error carries
// {reconnect:"handshake"}. A connect held when its client sends
// /meta/disconnect is answered successfully with {reconnect:"none"}; one
// held when the client is removed otherwise (expiry, overflow, Close) is
// answered with the 402 error, so that clients handshake again, with a
// restarted server for instance.
//
// # Errors
//
// An unsuccessful reply has successful:false and an error field in the
// CometD format "code:args:message"; it echoes the message's id and
// channel (or "/meta/unsuccessful" when it has none). The codes:
//
//	400  malformed message: not an object, a field of the wrong type, no or
//	     invalid channel, unknown meta channel, missing or unsupported
//	     connectionType, missing data, publish to a wildcard channel,
//	     invalid subscription
//	402  unknown client: missing or unknown clientId ("402::Unknown client")
//	403  subscription to a /meta channel ("403:/meta/x:...")
//	404  publish on a /service channel with no ServiceFunc
//	413  message larger than MaxMessageSize
//	500  a ServiceFunc failed with an error that is not an *Error
//	503  handshake after Close
//
// A ServiceFunc chooses its own code and text by returning an [*Error].
// Bad input from one client never affects another: each message gets its
// own reply, and the others in the same body are served.
//
// # Sessions
//
// A client lives from its handshake until /meta/disconnect, until it has
// had no connect held or arriving for MaxInterval (found by the one sweeper
// goroutine of Run), until its queue overflows MaxQueue, or until Close.
// OnClose callbacks learn which.
package bayeux

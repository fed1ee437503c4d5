// Package bench is the load generator behind `parley bench`: it plays the
// seed's sizing scenario against a running deployment and measures it.
//
// Simulated customers speak GMS Chat API v2 to a web API, over REST short
// polling (requestChat, send, refresh every Poll) or over CometD (a small
// Bayeux client of its own, over websocket or long-polling). Simulated
// agents speak the chat server's basic wire side (RequestJoin,
// RequestMessage, RequestReleaseParty, and the EventSessionInfo pushes),
// many agents sharing one connection. With the Wire transport the customers
// skip the web API and speak the chat server's customer side themselves
// (RequestLogin, RequestSubscribe, RequestMessage, RequestLogout), as a web
// API does for them: that measures the chat server alone. The package
// imports no role package: it knows the deployment only by its addresses,
// as a real client does.
//
// Each active session follows the seed's scenario: a customer requests a
// chat, an agent joins it on the chat server named by the chat's alias, the
// two alternate Messages messages each, Think apart, and the agent closes
// the chat (ForceClose) one Think after the last one; the slot then starts
// the next session. Dormant sessions are async chats with no agent whose
// customer polls every DormantPoll (REST) or stays subscribed (CometD,
// Wire) and sends nothing.
//
// Every message carries its sequence number and its send time in its text
// ("bench seq=N t=UNIXNANO"). Each receiver checks order, losses and
// duplicates and records the delivery latency, from the sender's send to
// the receiver's receipt on the same host, so on one clock. For a REST
// customer that latency includes the wait for its next poll.
//
// [Run] runs one step (a ramp, then a measured window); [FindCapacity] runs
// steps of growing size until one fails. Both return a [Result], the JSON
// of a result file; [Report] and [Plot] turn result files into the table
// and the SVG plot of docs/benchmarks.md.
package bench

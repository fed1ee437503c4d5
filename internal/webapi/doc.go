// Package webapi is the web-api role (GMS): what customers' chat applications
// talk to. It owns GMS Chat API v2 over REST (/genesys/2/chat/{serviceName}),
// the pool of connections to the deployment's chat servers (selection of a
// chat server for a new chat by load, routing of every later request by the
// alias it carries), and the table of push targets: the one subscription per
// client party through which a chat server pushes that party's events, so
// that a short poll is answered without a chat server round trip.
//
// The web API keeps no state a restart would lose: a chat is found by its
// alias and chatId, and any web API instance serves any chat. What it holds
// per chat (the push buffer) is a cache that is rebuilt on the first miss.
package webapi

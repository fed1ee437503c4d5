// Package chatserver is the chat-server application: it holds live chat
// sessions in memory, serves the customer side (the web API's "flex"
// connection) and the agent side ("basic" connections of agent desktops and
// bots) over the wire protocol, saves every stored event to the intermediate
// transcript store before acknowledging it, and writes the final transcript to
// the contact store when a session ends.
//
// The operations of one session run one at a time, in arrival order, on a
// goroutine that exists only while that session has work pending; sessions
// run in parallel, so their store appends are group-committed together.
package chatserver

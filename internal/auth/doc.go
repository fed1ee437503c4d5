// Package auth owns who may connect to parley's applications and what each
// one may do there: the deployment key and the keys derived from it, the
// challenge-response of the wire protocol's opening exchange, the roles a
// peer is admitted in, the signed grants with which an agent joins a chat,
// signed HTTP requests between applications, and the admin credential.
//
// It is pure: keys, clocks and nonces are passed in or drawn from
// crypto/rand; it opens no socket and reads no file. The roles call it on
// the connections they serve (see Gate and Handshake).
package auth

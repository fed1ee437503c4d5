package bayeux

import (
	"errors"
	"strconv"
	"strings"
)

// ErrClientGone is returned by Deliver once the client has been removed.
var ErrClientGone = errors.New("bayeux: client gone")

// ErrDisconnected is why a client was removed when it sent /meta/disconnect.
var ErrDisconnected = errors.New("bayeux: client disconnected")

// ErrExpired is why a client was removed when it had no /meta/connect held or
// arriving for Options.MaxInterval.
var ErrExpired = errors.New("bayeux: client expired")

// ErrOverflow is why a client was removed when its queue of undelivered
// messages reached Options.MaxQueue; Deliver returns it for the message that
// overflowed.
var ErrOverflow = errors.New("bayeux: client queue overflow")

// ErrServerClosed is why a client was removed when the server closed.
var ErrServerClosed = errors.New("bayeux: server closed")

// The error codes of the Bayeux error field ("code:args:message"), listed in
// the package documentation.
const (
	codeBadMessage    = 400
	codeUnknownClient = 402
	codeForbidden     = 403
	codeNoService     = 404
	codeTooLarge      = 413
	codeInternal      = 500
	codeUnavailable   = 503
)

// Error is a Bayeux error, sent to the client as the error field of an
// unsuccessful reply in the CometD format "code:arg1,arg2:message". A
// ServiceFunc returns one to choose the code and text its caller sees.
type Error struct {
	Code    int
	Args    []string
	Message string
}

// Error returns the CometD form of e, for instance "402::Unknown client".
func (e *Error) Error() string {
	return strconv.Itoa(e.Code) + ":" + strings.Join(e.Args, ",") + ":" + e.Message
}

// errorf returns an *Error with code and message and no arguments.
func errorf(code int, message string) *Error {
	return &Error{Code: code, Message: message}
}

// errUnknownClient answers a message whose clientId is missing or unknown.
var errUnknownClient = errorf(codeUnknownClient, "Unknown client")

// asError returns err as the *Error a client may see: an *Error anywhere in
// the chain as is, anything else as a 500 that reveals no internals.
func asError(err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	return errorf(codeInternal, "internal error")
}

// The reasons Options.Refused is given.
const (
	RefusedClients  = "cometd-clients"  // a handshake past MaxClientsPerAddr
	RefusedConnects = "cometd-connects" // a connect past MaxConnectsPerAddr, answered at once
	RefusedExt      = "cometd-ext"      // an ext larger than MaxExtSize
	RefusedChannel  = "cometd-channel"  // a subscription or publish outside Channels
)

// Refusals of the limits in Options.
var (
	errServerClosed   = errorf(codeUnavailable, "server closed")
	errTooManyClients = errorf(codeUnavailable, "too many clients from this address")
	errExtTooLarge    = errorf(codeBadMessage, "ext too large")
)

// errChannelRefused answers a subscription or publish outside
// Options.Channels.
func errChannelRefused(ch string) *Error {
	return &Error{Code: codeForbidden, Args: []string{ch}, Message: "channel not allowed"}
}

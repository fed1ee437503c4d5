package wire

import (
	"errors"
	"fmt"
	"strconv"
)

// Code is a stable error number that crosses the wire in the body of
// EventError. The numbers never change once published; new codes are added.
type Code int

// The error code catalogue. Codes below 200 are protocol and server
// conditions; codes from 8200 are chat session conditions, numbered as Genesys
// Chat Server numbers them where Genesys publishes the number.
const (
	// CodeMalformed: the frame is not a valid message.
	CodeMalformed Code = 100
	// CodeUnknownMessage: the message name is not in the catalogue.
	CodeUnknownMessage Code = 101
	// CodeBadRequest: a field of the body is missing or invalid.
	CodeBadRequest Code = 102
	// CodeTooLarge: the message is larger than the receiver accepts.
	CodeTooLarge Code = 103
	// CodeNotAllowed: the request is not allowed in this state or by this party.
	CodeNotAllowed Code = 104
	// CodeInternal: the server failed; the text says nothing more on purpose.
	CodeInternal Code = 105
	// CodeUnavailable: the server is at its limit or the function is disabled.
	CodeUnavailable Code = 106
	// CodeShuttingDown: the server is stopping; try another one.
	CodeShuttingDown Code = 107
	// CodeTimeout: the operation did not finish in time.
	CodeTimeout Code = 108
	// CodeNotAuthenticated: a request came before the opening exchange
	// (RequestChallenge, RequestAuthenticate) admitted the peer.
	CodeNotAuthenticated Code = 109
	// CodeAuthFailed: the peer's proof or certificate does not admit it: an
	// unknown client, a wrong key, a replayed proof, a certificate naming
	// another application. The connection is closed.
	CodeAuthFailed Code = 110
	// CodeRoleRefused: the peer is known but the deployment file does not
	// admit it in this role here (it is not connected to this server, or
	// not as this type of client). The connection is closed.
	CodeRoleRefused Code = 111
	// CodeBackup: this chat server is the backup of a warm-standby pair and
	// serves nothing while its primary lives; the request had no effect.
	// The web API sends the chat to the pair's primary (docs/ha.md).
	CodeBackup Code = 112
	// CodeRateLimited: too many requests of this client; retry later. The
	// text names the limit.
	CodeRateLimited Code = 113

	// CodeNoSuchSession: no chat session has this id.
	CodeNoSuchSession Code = 8200
	// CodeNoSuchUser: no such user in the session (Genesys 8201).
	CodeNoSuchUser Code = 8201
	// CodeSessionClosed: the chat session is over.
	CodeSessionClosed Code = 8202
	// CodeLoggedOut: the user was logged out, e.g. by flex-disconnect-timeout,
	// while the session goes on (Genesys 8209).
	CodeLoggedOut Code = 8209
	// CodeBadSecureKey: the secure key is wrong; the party has been removed
	// (Genesys 8210).
	CodeBadSecureKey Code = 8210
	// CodeStaleOwner: the session is now owned by another server.
	CodeStaleOwner Code = 8211
	// CodeStoreFailed: the transcript could not be saved.
	CodeStoreFailed Code = 8212
	// CodeGrantInvalid: an agent-side join without a grant, or with one that
	// is malformed or signed with another key.
	CodeGrantInvalid Code = 8213
	// CodeGrantExpired: the grant's expiry has passed.
	CodeGrantExpired Code = 8214
	// CodeGrantMismatch: the grant is for another session, agent, party
	// type or visibility, or a rejoin names another agent's party.
	CodeGrantMismatch Code = 8215

	// Interaction Server Proxy conditions, numbered as Genesys numbers them.

	// CodeUnsupported: the proxy does not support the operation (Ping).
	CodeUnsupported Code = 2000
	// CodeNoServerForMedia: no node of the cluster takes this media type
	// and tenant (or the media type is disabled).
	CodeNoServerForMedia Code = 2001
	// CodeLostServer: the connection to one of the nodes asked was lost
	// before it answered.
	CodeLostServer Code = 2002
	// CodeNotAccessible: a node that might hold the interaction cannot be
	// asked, so the proxy cannot tell whether it exists; also a request
	// without the attributes the proxy routes by.
	CodeNotAccessible Code = 2003
	// CodeInProgress: the same operation is already in progress.
	CodeInProgress Code = 2004
	// CodeAmbiguousInteraction: more than one node holds an interaction
	// with this id.
	CodeAmbiguousInteraction Code = 2005
	// CodeSnapshotNotAccessible: the snapshot cannot be reached.
	CodeSnapshotNotAccessible Code = 2006

	// Interaction server conditions, from 2100.

	// CodeNoSuchInteraction: no interaction has this id.
	CodeNoSuchInteraction Code = 2100
	// CodeDuplicateInteraction: an interaction with this id exists already.
	CodeDuplicateInteraction Code = 2101
	// CodeNoSuchQueue: the queue is not configured.
	CodeNoSuchQueue Code = 2102
	// CodeNoSuchView: the view is not configured.
	CodeNoSuchView Code = 2103
	// CodeNoSuchAgent: the agent is not configured.
	CodeNoSuchAgent Code = 2104
	// CodeLoginFailed: unknown agent or wrong password.
	CodeLoginFailed Code = 2105
	// CodeNotLoggedIn: the agent is not logged in.
	CodeNotLoggedIn Code = 2106
	// CodeNoInvitation: no pending invitation (never sent, or revoked).
	CodeNoInvitation Code = 2107
	// CodeInvitationPending: the interaction already has an invitation out.
	CodeInvitationPending Code = 2108
	// CodeNotParty: the agent does not hold the interaction.
	CodeNotParty Code = 2109
	// CodeInvalidState: the interaction's or agent's state does not allow it.
	CodeInvalidState Code = 2110
	// CodeAgentUnavailable: the agent is logged out or at capacity.
	CodeAgentUnavailable Code = 2111
	// CodeNotRegistered: the client has not sent RequestRegisterClient.
	CodeNotRegistered Code = 2112
	// CodeAlreadyLoggedIn: the agent is logged in on another connection and
	// allow-multiple-agent-connections is false.
	CodeAlreadyLoggedIn Code = 2113
	// CodeNoSuchMedia: the agent's login has no such media type.
	CodeNoSuchMedia Code = 2120
	// CodeNoSuchReason: the Not Ready reason code is not configured for
	// the agent's tenant.
	CodeNoSuchReason Code = 2121
	// CodeLocked: another client holds the interaction's lock
	// (RequestLockInteraction).
	CodeLocked Code = 2122
	// CodeNoSuchSnapshot: the client holds no snapshot of this id (never
	// taken, released, or ended with its client's connection).
	CodeNoSuchSnapshot Code = 2123

	// CodeNoSuchObject: the statistic's object is not configured, or its
	// stat type does not apply to objects of its type.
	CodeNoSuchObject Code = 2300
	// CodeNoSuchStatType: the stat type, time profile or time range is not
	// configured.
	CodeNoSuchStatType Code = 2301
	// CodeInvalidStatistic: a malformed mask, time profile, time range or
	// notification in the request.
	CodeInvalidStatistic Code = 2302
	// CodeNoSuchStatistic: the client has no statistic open under this
	// reference id.
	CodeNoSuchStatistic Code = 2303
	// CodeTooManyStatistics: max-statistics are open.
	CodeTooManyStatistics Code = 2304
	// CodeDuplicateReference: the client already has a statistic open
	// under this reference id.
	CodeDuplicateReference Code = 2305
)

// codeTexts holds the default text of every code.
var codeTexts = map[Code]string{
	CodeMalformed:        "malformed frame",
	CodeUnknownMessage:   "unknown message",
	CodeBadRequest:       "missing or invalid field",
	CodeTooLarge:         "message too large",
	CodeNotAllowed:       "request not allowed",
	CodeInternal:         "internal error",
	CodeUnavailable:      "service unavailable",
	CodeShuttingDown:     "server shutting down",
	CodeTimeout:          "timeout",
	CodeNotAuthenticated: "authenticate first",
	CodeAuthFailed:       "authentication failed",
	CodeRoleRefused:      "not admitted in this role",
	CodeBackup:           "backup: the primary chat server serves",
	CodeRateLimited:      "too many requests",
	CodeNoSuchSession:    "no such session",
	CodeNoSuchUser:       "no such user in the session",
	CodeSessionClosed:    "session closed",
	CodeLoggedOut:        "user was logged out",
	CodeBadSecureKey:     "bad secure key",
	CodeStaleOwner:       "session owned by another server",
	CodeStoreFailed:      "transcript could not be saved",
	CodeGrantInvalid:     "no valid grant for this session",
	CodeGrantExpired:     "grant expired",
	CodeGrantMismatch:    "grant does not match the request",

	CodeUnsupported:           "unsupported operation",
	CodeNoServerForMedia:      "there are no servers accepting this media/tenant",
	CodeLostServer:            "lost connection to one of the asked servers",
	CodeNotAccessible:         "interaction is not accessible",
	CodeInProgress:            "operation already in progress",
	CodeAmbiguousInteraction:  "more than one server contain interaction with same ID",
	CodeSnapshotNotAccessible: "snapshot not accessible",

	CodeNoSuchInteraction:    "no such interaction",
	CodeDuplicateInteraction: "interaction already exists",
	CodeNoSuchQueue:          "no such queue",
	CodeNoSuchView:           "no such view",
	CodeNoSuchAgent:          "no such agent",
	CodeLoginFailed:          "agent login failed",
	CodeNotLoggedIn:          "agent not logged in",
	CodeNoInvitation:         "no pending invitation",
	CodeInvitationPending:    "an invitation is already pending",
	CodeNotParty:             "agent does not hold the interaction",
	CodeInvalidState:         "not allowed in the current state",
	CodeAgentUnavailable:     "agent unavailable",
	CodeNotRegistered:        "client not registered",
	CodeAlreadyLoggedIn:      "agent already logged in",
	CodeNoSuchMedia:          "no such media",
	CodeNoSuchReason:         "no such Not Ready reason",
	CodeLocked:               "interaction locked by another client",
	CodeNoSuchSnapshot:       "no such snapshot",

	CodeNoSuchObject:       "no such object",
	CodeNoSuchStatType:     "no such statistic definition",
	CodeInvalidStatistic:   "invalid statistic definition",
	CodeNoSuchStatistic:    "no such statistic",
	CodeTooManyStatistics:  "too many statistics",
	CodeDuplicateReference: "reference id already in use",
}

// Text returns the default text of c, or "error <n>" for a code outside the
// catalogue (a newer peer may send one).
func (c Code) Text() string {
	if t, ok := codeTexts[c]; ok {
		return t
	}
	return "error " + strconv.Itoa(int(c))
}

// String returns the default text of c.
func (c Code) String() string { return c.Text() }

// Error is an error that crosses the wire: the body of EventError.
type Error struct {
	Code Code   `json:"code"`
	Text string `json:"text"`
}

// Error returns the code number and the text.
func (e *Error) Error() string {
	text := e.Text
	if text == "" {
		text = e.Code.Text()
	}
	return fmt.Sprintf("wire: %d %s", int(e.Code), text)
}

// Errorf returns an *Error with code and a text formatted as fmt.Sprintf
// does; an empty format gives the code's default text. The text reaches the
// peer: never put internals in it.
func Errorf(code Code, format string, args ...any) *Error {
	text := code.Text()
	if format != "" {
		text = fmt.Sprintf(format, args...)
	}
	return &Error{Code: code, Text: text}
}

// AsError returns the *Error in err's chain as is; any other error becomes
// CodeInternal with the default text, so that internals never leak to a peer.
// AsError(nil) is nil.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	return Errorf(CodeInternal, "")
}

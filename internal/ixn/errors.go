package ixn

import "errors"

// Errors returned by Engine operations, wrapped with the ids involved. The
// interaction server maps each to a wire error code; none carries internals.
var (
	// ErrNoSuchInteraction is returned for an interaction id the engine does
	// not hold (never submitted, or already stopped).
	ErrNoSuchInteraction = errors.New("ixn: no such interaction")
	// ErrDuplicateInteraction is returned by Submit for an id already held.
	ErrDuplicateInteraction = errors.New("ixn: interaction already exists")
	// ErrNoSuchQueue is returned for a queue the configuration does not define.
	ErrNoSuchQueue = errors.New("ixn: no such queue")
	// ErrNoSuchView is returned for a view the configuration does not define.
	ErrNoSuchView = errors.New("ixn: no such view")
	// ErrNoSuchAgent is returned for an agent the configuration does not define.
	ErrNoSuchAgent = errors.New("ixn: no such agent")
	// ErrLoginFailed is returned by Login for an unknown agent or a wrong
	// password; it does not say which.
	ErrLoginFailed = errors.New("ixn: agent login failed")
	// ErrNotLoggedIn is returned for an agent that is not logged in.
	ErrNotLoggedIn = errors.New("ixn: agent not logged in")
	// ErrNoInvitation is returned by Accept and Reject when the agent has no
	// pending invitation to the interaction (never invited, or revoked).
	ErrNoInvitation = errors.New("ixn: no pending invitation")
	// ErrInvitationPending is returned when an interaction already has an
	// invitation out: there is never more than one at a time.
	ErrInvitationPending = errors.New("ixn: an invitation is already pending")
	// ErrNotParty is returned when an agent acts on an interaction it does
	// not hold.
	ErrNotParty = errors.New("ixn: agent does not hold the interaction")
	// ErrInvalidState is returned when the interaction's or agent's state
	// does not allow the operation.
	ErrInvalidState = errors.New("ixn: not allowed in the current state")
	// ErrAgentUnavailable is returned when the target agent of a transfer,
	// conference or delivery is not logged in or has no free capacity.
	ErrAgentUnavailable = errors.New("ixn: agent unavailable")
	// ErrNoSuchMedia is returned for a media type the agent's login does
	// not have.
	ErrNoSuchMedia = errors.New("ixn: no such media")
	// ErrNoSuchReason is returned for a Not Ready reason code that is not
	// configured for the agent's tenant.
	ErrNoSuchReason = errors.New("ixn: no such Not Ready reason")
	// ErrLocked is returned for a change of an interaction another client
	// holds the lock of.
	ErrLocked = errors.New("ixn: interaction locked")
	// ErrNoSuchSnapshot is returned for a snapshot id the client does not
	// hold (never taken, released, or another client's).
	ErrNoSuchSnapshot = errors.New("ixn: no such snapshot")
	// ErrNotSupervisor is returned when an agent that is not a supervisor
	// asks for a supervisor's operation.
	ErrNotSupervisor = errors.New("ixn: not a supervisor")
	// ErrInvalid is returned for a missing or malformed argument.
	ErrInvalid = errors.New("ixn: invalid argument")
)

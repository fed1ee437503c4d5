package transcript

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of a Store. Callers decide on them with errors.Is.
var (
	// ErrNotFound is returned for a session the store does not hold.
	ErrNotFound = errors.New("transcript: session not found")
	// ErrExists is returned by Create for a session id already in the store.
	ErrExists = errors.New("transcript: session already exists")
	// ErrStaleEpoch is returned when a write carries an epoch lower than the
	// session's current one: another server has taken the session over, and the
	// writer must drop its copy at once.
	ErrStaleEpoch = errors.New("transcript: stale epoch, session owned by another server")
	// ErrIndexConflict is returned by Append when an event index is not greater
	// than the last stored one.
	ErrIndexConflict = errors.New("transcript: event index conflict")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("transcript: store closed")
)

// Session is the header of an intermediate transcript.
type Session struct {
	ID string
	// Owner is the application name of the chat server that owns the session.
	Owner string
	// Epoch is the fencing token of the owner, from 1, raised by each Claim.
	Epoch int64
	// Incarnation names the owner's process that created or claimed the
	// session (a random id each chat server process takes at start); empty
	// for a session stored before incarnations were kept. A process of the
	// same name with another incarnation does not hold the session: a
	// restore never defers to it.
	Incarnation string
	// Async is true for an async-mode session.
	Async     bool
	CreatedAt time.Time
	// UserData is the session's user data (the request-chat userData and contact fields).
	UserData map[string]string
}

// Snapshot is a whole intermediate transcript as loaded for restoration.
type Snapshot struct {
	Session Session
	// Events are in index order, from 1; indexes of unstored events are missing.
	Events []Event
}

// Store is the intermediate transcript store: an append-only event log per
// session, fenced by an epoch. Implementations are safe for concurrent use.
// Appends from many sessions may be group-committed; Append returns only once
// its events are durable.
type Store interface {
	// Create stores a new session header at epoch s.Epoch (normally 1),
	// owned by s.Owner's process s.Incarnation. It returns ErrExists if the
	// id is taken.
	Create(ctx context.Context, s Session) error
	// Append durably adds events to a session, atomically, in index order.
	// Indexes must increase and the first must be greater than the last stored
	// index; gaps are allowed, because events that are delivered but not stored
	// (typing notices) still take an index. It returns ErrNotFound,
	// ErrStaleEpoch if epoch differs from the stored epoch, or ErrIndexConflict.
	Append(ctx context.Context, sessionID string, epoch int64, events []Event) error
	// Load returns the session header and all its events, or ErrNotFound.
	Load(ctx context.Context, sessionID string) (Snapshot, error)
	// Header returns the session header alone (its owner and epoch, for a
	// location lookup), or ErrNotFound: one row, however long the transcript.
	Header(ctx context.Context, sessionID string) (Session, error)
	// Claim makes owner's process incarnation the session's owner with
	// epoch+1 and returns the new epoch, provided the stored epoch is still
	// epoch (the one the claimer loaded): of two servers claiming at once
	// exactly one wins, the other gets ErrStaleEpoch. Owner, incarnation and
	// epoch change together, in one write. It returns ErrNotFound for an
	// unknown session. Every later write by a holder of an older epoch fails
	// with ErrStaleEpoch.
	Claim(ctx context.Context, sessionID, owner, incarnation string, epoch int64) (int64, error)
	// Delete removes a session and its events. It returns ErrStaleEpoch if
	// epoch is lower than the stored one; deleting a missing session is not an error.
	Delete(ctx context.Context, sessionID string, epoch int64) error
	// Sessions lists the headers of the sessions owned by owner.
	Sessions(ctx context.Context, owner string) ([]Session, error)
}

// CheckOrder returns an error wrapping ErrIndexConflict unless the indexes of
// events increase, as Store.Append requires of its argument.
func CheckOrder(events []Event) error {
	for i := 1; i < len(events); i++ {
		if events[i].Index <= events[i-1].Index {
			return fmt.Errorf("index %d after %d: %w", events[i].Index, events[i-1].Index, ErrIndexConflict)
		}
	}
	return nil
}

// EncodeUserData is the JSON object stores keep user data as; nil encodes
// as {} rather than null.
func EncodeUserData(m map[string]string) ([]byte, error) {
	if m == nil {
		m = map[string]string{}
	}
	return json.Marshal(m)
}

// DecodeUserData decodes stored user data (a JSON object, or null); an empty
// one is nil, as a session without user data holds it.
func DecodeUserData(data []byte) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

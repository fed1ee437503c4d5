package ixn

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrDuplicateEvent is returned by Store.Commit for a reporting event whose
// id the log already holds; the batch is then not applied at all.
var ErrDuplicateEvent = errors.New("ixn: duplicate event id")

// LogEvent is one entry of the reporting event log.
type LogEvent struct {
	ID   int64 // increasing, from 1, without gaps as the engine assigns them
	Time time.Time
	Name string          // EventInteractionSubmitted, EventAccepted, ...
	Body json.RawMessage // a JSON object (a Body), holding ID and Time too
}

// Batch is what one or more engine operations changed, to be written at once.
type Batch struct {
	Saves   []Interaction // inserted, or replacing the record of the same id
	Deletes []string      // interaction ids; an unknown id is not an error
	Events  []LogEvent    // appended in order
}

// Empty reports whether b has nothing to write.
func (b Batch) Empty() bool { return len(b.Saves) == 0 && len(b.Deletes) == 0 && len(b.Events) == 0 }

// Store is the interaction server's persistence: the live interactions and
// the reporting event log. Agent logins are not kept: agents log in again
// after a restart. Implementations are safe for concurrent use.
type Store interface {
	// Commit applies b atomically: every save (an upsert of the whole
	// interaction), then every delete, then the events, in one transaction.
	// It returns ErrDuplicateEvent when an event id is already in the log.
	Commit(ctx context.Context, b Batch) error
	// Interactions returns every stored interaction, in no set order.
	Interactions(ctx context.Context) ([]Interaction, error)
	// Events returns up to limit events with ids from fromID on, in id order.
	Events(ctx context.Context, fromID int64, limit int) ([]LogEvent, error)
	// LastEventID returns the highest event id in the log, 0 when empty.
	LastEventID(ctx context.Context) (int64, error)
}

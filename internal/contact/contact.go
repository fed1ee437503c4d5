package contact

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors of a Store.
var (
	// ErrNotFound is returned for an interaction or contact the store does not hold.
	ErrNotFound = errors.New("contact: not found")
)

// Contact is a customer known to the contact center.
type Contact struct {
	// ID is assigned by the store.
	ID           string
	FirstName    string
	LastName     string
	EmailAddress string
	Nickname     string
}

// Party is a participant as kept in the interaction history.
type Party struct {
	UserID   string
	Type     string
	Nickname string
	PersonID string
}

// Interaction is the history record of one finished chat.
type Interaction struct {
	// ID equals the chat session id.
	ID string
	// MediaType is "chat"; TypeID "Inbound"; SubtypeID "InboundNew", as in UCS.
	MediaType string
	TypeID    string
	SubtypeID string
	// ContactID links to the Contact; the store sets it when it is empty.
	ContactID string
	Subject   string
	StartedAt time.Time
	EndedAt   time.Time
	// Owner is the chat server application that ended the session.
	Owner   string
	Parties []Party
	// UserData is the session's user data at its end.
	UserData map[string]string
	// TranscriptXML is the chatTranscript XML (public-api-notes §4.1).
	TranscriptXML string
	// TranscriptJSON is the same transcript as JSON.
	TranscriptJSON []byte
}

// Store is the contact store. Implementations are safe for concurrent use.
type Store interface {
	// SaveInteraction stores a finished interaction, creating or matching its
	// contact: by EmailAddress when given, else a new contact. Saving the same
	// interaction id twice replaces the first record (a retried final save).
	// It returns the stored interaction with ContactID set.
	SaveInteraction(ctx context.Context, c Contact, in Interaction) (Interaction, error)
	// Interaction returns a stored interaction, or ErrNotFound.
	Interaction(ctx context.Context, id string) (Interaction, error)
	// Contact returns a stored contact, or ErrNotFound.
	Contact(ctx context.Context, id string) (Contact, error)
	// ContactByEmail returns the contact with that email address, or
	// ErrNotFound (the desktop's customer panel).
	ContactByEmail(ctx context.Context, email string) (Contact, error)
	// ContactInteractions lists a contact's interactions, newest first.
	ContactInteractions(ctx context.Context, contactID string) ([]Interaction, error)
	// SaveStandardResponse stores r, a new one when r.ID is empty, and
	// returns it with its ID.
	SaveStandardResponse(ctx context.Context, r StandardResponse) (StandardResponse, error)
	// StandardResponses returns up to limit responses whose name or text
	// contains query (case-insensitive; empty: all), by name.
	StandardResponses(ctx context.Context, query string, limit int) ([]StandardResponse, error)
}

package storetest

import (
	"errors"
	"testing"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/transcript"
)

// Stores are the stores of one opened database and what closes it.
type Stores struct {
	Transcripts transcript.Store
	Contacts    contact.Store
	// Availability is checked when not nil.
	Availability chat.AvailabilityStore
	Close        func() error
}

// TestReopenKeepsData checks that a database closed and opened again still
// holds what was written. open must open the same database at every call.
func TestReopenKeepsData(t *testing.T, open func(t *testing.T) Stores) {
	ctx := t.Context()
	db := open(t)
	ev := transcript.Event{Index: 1, Type: transcript.Message, Text: "hi", Visibility: transcript.VisAll}
	if err := db.Transcripts.Create(ctx, transcript.Session{ID: "s-1", Owner: "cs-1", Epoch: 1}); err != nil {
		t.Fatal(err)
	}
	if err := db.Transcripts.Append(ctx, "s-1", 1, []transcript.Event{ev}); err != nil {
		t.Fatal(err)
	}
	in, err := db.Contacts.SaveInteraction(ctx, contact.Contact{EmailAddress: "a@example.com"}, contact.Interaction{ID: "s-1"})
	if err != nil {
		t.Fatal(err)
	}
	if db.Availability != nil {
		if err := db.Availability.SetDisabled(ctx, "cs-1", true); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open(t)
	defer db.Close()
	snap, err := db.Transcripts.Load(ctx, "s-1")
	if err != nil || len(snap.Events) != 1 || snap.Events[0].Text != "hi" {
		t.Fatalf("after reopen: %+v, %v", snap, err)
	}
	if got, err := db.Contacts.Interaction(ctx, "s-1"); err != nil || got.ContactID != in.ContactID {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	if db.Availability != nil {
		if disabled, err := db.Availability.Disabled(ctx, "cs-1"); err != nil || !disabled {
			t.Fatalf("after reopen: chat server disabled = %v, %v; want true", disabled, err)
		}
	}
}

// TestCloseIsIdempotentAndRefuses checks that a second Close succeeds and
// that an Append after Close is transcript.ErrClosed.
func TestCloseIsIdempotentAndRefuses(t *testing.T, open func(t *testing.T) Stores) {
	db := open(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := db.Transcripts.Append(t.Context(), "s-1", 1, nil); !errors.Is(err, transcript.ErrClosed) {
		t.Fatalf("Append after Close: got %v, want ErrClosed", err)
	}
}

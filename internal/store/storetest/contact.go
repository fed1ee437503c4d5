package storetest

import (
	"bytes"
	"errors"
	"maps"
	"reflect"
	"regexp"
	"testing"

	"github.com/parley-chat/parley/internal/contact"
)

// TestContactStore runs the contact.Store conformance suite. open must return
// a fresh store that stays usable until the test ends; subtests run in
// parallel, each on its own store.
func TestContactStore(t *testing.T, open func(t *testing.T) contact.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s contact.Store)
	}{
		{"SaveGet", testSaveGet},
		{"MatchByEmail", testMatchByEmail},
		{"ContactByEmail", testContactByEmail},
		{"StandardResponses", testStandardResponses},
		{"ReplaceOnResave", testReplaceOnResave},
		{"ListByContact", testListByContact},
		{"NotFound", testContactNotFound},
		{"FinalTranscriptXML", testFinalTranscriptXML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, open(t))
		})
	}
}

func newInteraction(started int64) contact.Interaction {
	return contact.Interaction{
		ID: NewID("ixn"), MediaType: "chat", TypeID: "Inbound", SubtypeID: "InboundNew",
		Subject: "billing", StartedAt: ms(started), EndedAt: ms(started + 60_000), Owner: "cs-1",
		Parties: []contact.Party{
			{UserID: "u-1", Type: "Client", Nickname: "Ada"},
			{UserID: "u-2", Type: "Agent", Nickname: "Bob", PersonID: "bob"},
		},
		UserData:       map[string]string{"FirstName": "Ada"},
		TranscriptXML:  `<chatTranscript startAt="2026-11-21T10:00:00Z"/>`,
		TranscriptJSON: []byte(`{"events":[]}`),
	}
}

func mustSave(t *testing.T, s contact.Store, c contact.Contact, in contact.Interaction) contact.Interaction {
	t.Helper()
	saved, err := s.SaveInteraction(t.Context(), c, in)
	if err != nil {
		t.Fatalf("SaveInteraction %s: %v", in.ID, err)
	}
	if saved.ContactID == "" {
		t.Fatalf("SaveInteraction %s: no ContactID", in.ID)
	}
	return saved
}

func assertInteraction(t *testing.T, got, want contact.Interaction) {
	t.Helper()
	if !got.StartedAt.Equal(want.StartedAt) || !got.EndedAt.Equal(want.EndedAt) ||
		!bytes.Equal(got.TranscriptJSON, want.TranscriptJSON) || !maps.Equal(got.UserData, want.UserData) {
		t.Errorf("interaction %s: times, JSON or user data differ:\n got %+v\nwant %+v", want.ID, got, want)
	}
	got.StartedAt, got.EndedAt, got.TranscriptJSON, got.UserData = want.StartedAt, want.EndedAt, nil, nil
	want.TranscriptJSON, want.UserData = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("interaction:\n got %+v\nwant %+v", got, want)
	}
}

func testSaveGet(t *testing.T, s contact.Store) {
	c := contact.Contact{FirstName: "Ada", LastName: "Lovelace", EmailAddress: NewID("ada") + "@example.com", Nickname: "ada"}
	saved := mustSave(t, s, c, newInteraction(0))
	got, err := s.Interaction(t.Context(), saved.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertInteraction(t, got, saved)
	gotC, err := s.Contact(t.Context(), saved.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	c.ID = saved.ContactID
	if gotC != c {
		t.Errorf("contact:\n got %+v\nwant %+v", gotC, c)
	}
	if !regexp.MustCompile(`^[0-9A-Za-z]{16}$`).MatchString(c.ID) {
		t.Errorf("contact id %q: want 16 letters and digits", c.ID)
	}
}

func testMatchByEmail(t *testing.T, s contact.Store) {
	email := NewID("ada") + "@example.com"
	first := mustSave(t, s, contact.Contact{EmailAddress: email, FirstName: "Ada"}, newInteraction(0))
	second := mustSave(t, s, contact.Contact{EmailAddress: email}, newInteraction(1000))
	if first.ContactID != second.ContactID {
		t.Errorf("same email, contacts %s and %s", first.ContactID, second.ContactID)
	}
	a := mustSave(t, s, contact.Contact{FirstName: "Anon"}, newInteraction(0))
	b := mustSave(t, s, contact.Contact{FirstName: "Anon"}, newInteraction(0))
	if a.ContactID == b.ContactID || a.ContactID == first.ContactID {
		t.Errorf("contacts without email must be new: %s, %s", a.ContactID, b.ContactID)
	}
	given := newInteraction(0)
	given.ContactID = first.ContactID
	if got := mustSave(t, s, contact.Contact{}, given); got.ContactID != first.ContactID {
		t.Errorf("a given ContactID was replaced by %s", got.ContactID)
	}
}

func testContactByEmail(t *testing.T, s contact.Store) {
	email := NewID("ada") + "@example.com"
	saved := mustSave(t, s, contact.Contact{EmailAddress: email, FirstName: "Ada", Nickname: "ada"}, newInteraction(0))
	c, err := s.ContactByEmail(t.Context(), email)
	if err != nil || c.ID != saved.ContactID || c.FirstName != "Ada" || c.Nickname != "ada" || c.EmailAddress != email {
		t.Errorf("ContactByEmail(%s) = %+v, %v; want contact %s", email, c, err, saved.ContactID)
	}
	mustSave(t, s, contact.Contact{FirstName: "Anon"}, newInteraction(0)) // a contact without email
	for _, other := range []string{"nobody@example.com", ""} {
		if _, err := s.ContactByEmail(t.Context(), other); !errors.Is(err, contact.ErrNotFound) {
			t.Errorf("ContactByEmail(%q): %v, want ErrNotFound", other, err)
		}
	}
}

func testStandardResponses(t *testing.T, s contact.Store) {
	ctx := t.Context()
	if got, err := s.StandardResponses(ctx, "", 10); err != nil || len(got) != 0 {
		t.Fatalf("StandardResponses of an empty store = %v, %v", got, err)
	}
	hello, err := s.SaveStandardResponse(ctx, contact.StandardResponse{Name: "Greeting", Text: "Hello, how can I help?"})
	if err != nil || hello.ID == "" {
		t.Fatalf("SaveStandardResponse = %+v, %v", hello, err)
	}
	for _, r := range []contact.StandardResponse{{Name: "Delivery", Text: "Your order ships within 2 days."}, {Name: "Bye", Text: "Thanks for chatting, goodbye!"}} {
		if _, err := s.SaveStandardResponse(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	names := func(query string, limit int) []string {
		t.Helper()
		rs, err := s.StandardResponses(ctx, query, limit)
		if err != nil {
			t.Fatalf("StandardResponses(%q): %v", query, err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	for _, tt := range []struct {
		query string
		limit int
		want  []string
	}{
		{"", 10, []string{"Bye", "Delivery", "Greeting"}},
		{"", 2, []string{"Bye", "Delivery"}},
		{"ORDER", 10, []string{"Delivery"}}, // in the text, any case
		{"greet", 10, []string{"Greeting"}}, // in the name
		{"%", 10, nil},                      // no pattern syntax
		{"how can i help?", 10, []string{"Greeting"}},
	} {
		if got := names(tt.query, tt.limit); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("StandardResponses(%q, %d) = %v, want %v", tt.query, tt.limit, got, tt.want)
		}
	}
	hello.Text = "Hi there!"
	if _, err := s.SaveStandardResponse(ctx, hello); err != nil {
		t.Fatal(err)
	}
	rs, err := s.StandardResponses(ctx, "greeting", 10)
	if err != nil || len(rs) != 1 || rs[0].ID != hello.ID || rs[0].Text != "Hi there!" {
		t.Errorf("after a re-save: %+v, %v", rs, err)
	}
}

func testReplaceOnResave(t *testing.T, s contact.Store) {
	in := newInteraction(0)
	first := mustSave(t, s, contact.Contact{FirstName: "Anon"}, in)
	in.Subject, in.TranscriptXML, in.EndedAt = "changed", "<chatTranscript/>", ms(99_000)
	second := mustSave(t, s, contact.Contact{FirstName: "Anon"}, in)
	if second.ContactID != first.ContactID {
		t.Errorf("re-save moved the interaction from contact %s to %s", first.ContactID, second.ContactID)
	}
	got, err := s.Interaction(t.Context(), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertInteraction(t, got, second)
	list, err := s.ContactInteractions(t.Context(), first.ContactID)
	if err != nil || len(list) != 1 {
		t.Errorf("after re-save the contact has %d interactions (%v), want 1", len(list), err)
	}
}

func testListByContact(t *testing.T, s contact.Store) {
	email := NewID("ada") + "@example.com"
	var saved []contact.Interaction
	for _, started := range []int64{1000, 3000, 2000} {
		saved = append(saved, mustSave(t, s, contact.Contact{EmailAddress: email}, newInteraction(started)))
	}
	mustSave(t, s, contact.Contact{EmailAddress: NewID("other") + "@example.com"}, newInteraction(5000))
	list, err := s.ContactInteractions(t.Context(), saved[0].ContactID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("got %d interactions, want 3", len(list))
	}
	for i, want := range []contact.Interaction{saved[1], saved[2], saved[0]} { // newest first
		assertInteraction(t, list[i], want)
	}
}

func testContactNotFound(t *testing.T, s contact.Store) {
	if _, err := s.Interaction(t.Context(), NewID("missing")); !errors.Is(err, contact.ErrNotFound) {
		t.Errorf("Interaction: got %v, want ErrNotFound", err)
	}
	if _, err := s.Contact(t.Context(), NewID("missing")); !errors.Is(err, contact.ErrNotFound) {
		t.Errorf("Contact: got %v, want ErrNotFound", err)
	}
	in := newInteraction(0)
	in.ContactID = NewID("missing")
	if _, err := s.SaveInteraction(t.Context(), contact.Contact{}, in); !errors.Is(err, contact.ErrNotFound) {
		t.Errorf("SaveInteraction with an unknown ContactID: got %v, want ErrNotFound", err)
	}
	if list, err := s.ContactInteractions(t.Context(), NewID("missing")); err != nil || len(list) != 0 {
		t.Errorf("ContactInteractions of an unknown contact: %v, %v; want none", list, err)
	}
}

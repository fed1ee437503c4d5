package webapi_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/wire"
)

// TestDesktopContactHistory: an agent in a customer's second chat gets, for
// the customer panel, the contact of the customer's email address and the
// first chat with its transcript and disposition, not the chat at hand; a
// customer without an email address has no contact.
func TestDesktopContactHistory(t *testing.T) {
	dc, d, first := deskInChat(t)
	first.must("send", "message", "my first visit")
	eventually(t, "the agent sees the message", func() bool { return d.hasText(first.chatID, "my first visit") })
	d.must(wire.RequestWrapUp, map[string]string{"interactionId": first.chatID, "disposition": "Resolved"})
	eventually(t, "the first chat filed", func() bool {
		_, err := dc.db.Contacts().Interaction(context.Background(), first.chatID)
		return err == nil
	})

	second := dc.web.requestChat(nil)
	d.acceptNext(second.chatID)
	var h struct {
		Contact *struct {
			ID, EmailAddress, FirstName string
		}
		Interactions []struct {
			InteractionID string
			Subject       string
			UserData      map[string]string
			Transcript    json.RawMessage
		}
	}
	reply := d.must(wire.RequestGetContactHistory, map[string]string{"interactionId": second.chatID})
	if err := json.Unmarshal(reply, &h); err != nil {
		t.Fatal(err)
	}
	if h.Contact == nil || h.Contact.EmailAddress != "ann@example.com" || h.Contact.FirstName != "Ann" {
		t.Fatalf("contact %+v in %s", h.Contact, reply)
	}
	if len(h.Interactions) != 1 || h.Interactions[0].InteractionID != first.chatID || h.Interactions[0].Subject != "Order 42" ||
		h.Interactions[0].UserData["DispositionCode"] != "Resolved" || !strings.Contains(string(h.Interactions[0].Transcript), "my first visit") {
		t.Errorf("previous chats %s, want the first chat %s only", reply, first.chatID)
	}

	anon := dc.web.requestChat(url.Values{"emailAddress": {""}})
	d.acceptNext(anon.chatID)
	reply = d.must(wire.RequestGetContactHistory, map[string]string{"interactionId": anon.chatID})
	if err := json.Unmarshal(reply, &h); err != nil || h.Contact != nil || len(h.Interactions) != 0 {
		t.Errorf("history of a customer without email: %s (%v)", reply, err)
	}
	d.wantCode(wire.RequestGetContactHistory, map[string]string{"interactionId": "no-such-chat"}, wire.CodeNoSuchInteraction)
}

// TestDesktopStandardResponses: an agent in a chat adds standard responses
// and finds them by any part of their name or text; a response without a
// name, or too long, is refused.
func TestDesktopStandardResponses(t *testing.T) {
	_, d, c := deskInChat(t)
	in := func(kv ...string) map[string]string {
		m := map[string]string{"interactionId": c.chatID}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	type responses struct {
		Responses []struct{ ID, Name, Text string }
	}
	var saved responses
	if err := json.Unmarshal(d.must(wire.RequestSaveStandardResponse, in("name", "Delivery", "text", "Your order ships within 2 days.")), &saved); err != nil ||
		len(saved.Responses) != 1 || saved.Responses[0].ID == "" {
		t.Fatalf("saved %+v (%v)", saved, err)
	}
	d.must(wire.RequestSaveStandardResponse, in("name", "Greeting", "text", "Hello, how can I help?"))
	d.wantCode(wire.RequestSaveStandardResponse, in("name", "", "text", "no name"), wire.CodeBadRequest)
	d.wantCode(wire.RequestSaveStandardResponse, in("name", "Long", "text", strings.Repeat("x", 4001)), wire.CodeTooLarge)
	for query, want := range map[string]string{"": "Delivery,Greeting", "SHIPS": "Delivery", "greet": "Greeting", "refund": ""} {
		var got responses
		if err := json.Unmarshal(d.must(wire.RequestGetStandardResponses, in("query", query)), &got); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range got.Responses {
			names = append(names, r.Name)
		}
		if strings.Join(names, ",") != want {
			t.Errorf("search %q: %v, want %s", query, names, want)
		}
	}
}

// deskInChat starts a desk cluster where alice, logged in on the desktop
// bridge, has accepted a customer's chat.
func deskInChat(t *testing.T) (*deskCluster, *desk, customer) {
	t.Helper()
	dc := startDeskCluster(t)
	d := dc.desk()
	d.login("alice")
	c := dc.web.requestChat(nil)
	d.acceptNext(c.chatID)
	return dc, d, c
}

package storetest

import (
	"encoding/xml"
	"slices"
	"testing"

	"github.com/parley-chat/parley/internal/contact"
	"github.com/parley-chat/parley/internal/transcript"
)

// xmlElem is any element of a stored chatTranscript, read back generically so
// that the check sees the names the store returned, not those of our encoder.
type xmlElem struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Kids    []xmlElem  `xml:",any"`
	Text    string     `xml:",chardata"`
}

func (e xmlElem) attr(name string) (string, bool) {
	for _, a := range e.Attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

func (e xmlElem) kid(name string) (xmlElem, bool) {
	for _, k := range e.Kids {
		if k.XMLName.Local == name {
			return k, true
		}
	}
	return xmlElem{}, false
}

// finalTranscript is a finished session with every kind of stored event a
// transcript of public-api-notes §4.1 shows.
func finalTranscript(id string) transcript.Final {
	client := &transcript.Party{ID: "c1", ParticipantID: 1, Type: transcript.Client, Nickname: "John",
		Protocol: "FLEX", UserData: map[string]string{"FirstName": "John"}, KeyHash: "secret-hash"}
	agent := &transcript.Party{ID: "a1", ParticipantID: 2, Type: transcript.Agent, Nickname: "Anna",
		PersonID: "anna", Protocol: "BASIC", Visibility: transcript.VisAll}
	return transcript.Final{SessionID: id, StartAt: ms(0), Events: []transcript.Event{
		{Index: 1, Type: transcript.ParticipantJoined, Time: ms(0), PartyID: "c1", Visibility: transcript.VisAll, Party: client},
		{Index: 2, Type: transcript.Message, Time: ms(1000), PartyID: "c1", Visibility: transcript.VisAll, Text: "hi <there> & bye"},
		{Index: 4, Type: transcript.ParticipantJoined, Time: ms(2000), PartyID: "a1", Visibility: transcript.VisAll, Party: agent},
		{Index: 5, Type: transcript.Message, Time: ms(3000), PartyID: "a1", Visibility: transcript.VisInt, Text: "note"},
		{Index: 6, Type: transcript.CustomNotice, Time: ms(4000), PartyID: "a1", Visibility: transcript.VisAll,
			Text: "InteractionId=" + id, NoticeType: "USER_CUSTOM"},
		{Index: 7, Type: transcript.ParticipantLeft, Time: ms(13000), PartyID: "a1", Visibility: transcript.VisAll,
			Reason: transcript.ReasonForceClose, AskerID: "a1"},
		{Index: 8, Type: transcript.ParticipantLeft, Time: ms(13000), PartyID: "c1", Visibility: transcript.VisAll,
			Reason: transcript.ReasonForceClose, AskerID: "a1"},
	}}
}

// testFinalTranscriptXML stores a final transcript's XML and checks that what
// comes back parses and carries the element and attribute names of
// public-api-notes §4.1, event by event, and never a client's key hash.
func testFinalTranscriptXML(t *testing.T, s contact.Store) {
	in := newInteraction(0)
	final := finalTranscript(in.ID)
	doc, err := final.XML()
	if err != nil {
		t.Fatal(err)
	}
	in.TranscriptXML = string(doc)
	mustSave(t, s, contact.Contact{FirstName: "John"}, in)
	got, err := s.Interaction(t.Context(), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	var root xmlElem
	if err := xml.Unmarshal([]byte(got.TranscriptXML), &root); err != nil {
		t.Fatalf("stored transcript is not XML: %v\n%s", err, got.TranscriptXML)
	}
	if root.XMLName.Local != "chatTranscript" {
		t.Fatalf("root element %q, want chatTranscript", root.XMLName.Local)
	}
	if v, _ := root.attr("sessionId"); v != in.ID {
		t.Errorf("sessionId = %q, want %q", v, in.ID)
	}
	if v, _ := root.attr("startAt"); v != "2025-11-21T04:40:00Z" {
		t.Errorf("startAt = %q, want 2025-11-21T04:40:00Z", v)
	}
	want := []struct{ name, eventID, timeShift, visibility, child string }{
		{"newParty", "1", "0", "ALL", "userInfo"},
		{"message", "2", "1", "ALL", "msgText"},
		{"newParty", "4", "2", "ALL", "userInfo"},
		{"message", "5", "3", "INT", "msgText"},
		{"notice", "6", "4", "ALL", "noticeText"},
		{"partyLeft", "7", "13", "ALL", "reason"},
		{"partyLeft", "8", "13", "ALL", "reason"},
	}
	if len(root.Kids) != len(want) {
		t.Fatalf("%d events stored, want %d:\n%s", len(root.Kids), len(want), got.TranscriptXML)
	}
	for i, w := range want {
		ev := root.Kids[i]
		if ev.XMLName.Local != w.name {
			t.Errorf("event %d is <%s>, want <%s>", i, ev.XMLName.Local, w.name)
		}
		for attr, v := range map[string]string{"eventId": w.eventID, "timeShift": w.timeShift, "visibility": w.visibility} {
			if got, _ := ev.attr(attr); got != v {
				t.Errorf("event %d %s = %q, want %q", i, attr, got, v)
			}
		}
		if _, ok := ev.attr("userId"); !ok {
			t.Errorf("event %d has no userId", i)
		}
		if _, ok := ev.kid(w.child); !ok {
			t.Errorf("event %d <%s> has no <%s>", i, w.name, w.child)
		}
	}
	checkUserInfo(t, root.Kids[0], "CLIENT", "FLEX")
	checkUserInfo(t, root.Kids[2], "AGENT", "BASIC")
	if msg, _ := root.Kids[1].kid("msgText"); msg.Text != "hi <there> & bye" {
		t.Errorf("msgText = %q", msg.Text)
	}
	if n, _ := root.Kids[4].kid("noticeText"); n.Text != "InteractionId="+in.ID || !hasAttr(n, "noticeType", "USER_CUSTOM") {
		t.Errorf("noticeText = %+v", n)
	}
	if r, _ := root.Kids[5].kid("reason"); !hasAttr(r, "code", "2") || !hasAttr(root.Kids[5], "askerId", "a1") {
		t.Errorf("partyLeft reason %+v, attributes %+v", r, root.Kids[5].Attrs)
	}
	if slices.ContainsFunc(root.Kids, func(e xmlElem) bool { return containsText(e, "secret-hash") }) {
		t.Error("the stored transcript carries a client's key hash")
	}
}

func checkUserInfo(t *testing.T, party xmlElem, userType, protocol string) {
	t.Helper()
	info, _ := party.kid("userInfo")
	for _, name := range []string{"personId", "userNick", "userType", "protocolType", "timeZoneOffset"} {
		if _, ok := info.attr(name); !ok {
			t.Errorf("userInfo has no %s: %+v", name, info.Attrs)
		}
	}
	if !hasAttr(info, "userType", userType) || !hasAttr(info, "protocolType", protocol) {
		t.Errorf("userInfo %+v, want userType %s, protocolType %s", info.Attrs, userType, protocol)
	}
}

func hasAttr(e xmlElem, name, value string) bool {
	v, ok := e.attr(name)
	return ok && v == value
}

func containsText(e xmlElem, s string) bool {
	if e.Text == s || slices.ContainsFunc(e.Attrs, func(a xml.Attr) bool { return a.Value == s }) {
		return true
	}
	return slices.ContainsFunc(e.Kids, func(k xmlElem) bool { return containsText(k, s) })
}

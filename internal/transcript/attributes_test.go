package transcript

import (
	"encoding/json"
	"reflect"
	"testing"
)

// A party's own eventAttributes (the official widget's
// {"purpose":"cancel-idle-timer"}) are flat strings beside the server's
// GCTI_SYSTEM node, in the final JSON as in messages[] (issue 20, item 5).
func TestFinalJSONPartyAttributes(t *testing.T) {
	notice := Event{Index: 1, Type: CustomNotice, Time: start, PartyID: clientID, Visibility: VisAll,
		EventAttributes: map[string]string{"purpose": "cancel-idle-timer"}}
	left := Event{Index: 2, Type: ParticipantLeft, Time: start, PartyID: clientID, Visibility: VisAll,
		Reason: ReasonIdle, EventAttributes: map[string]string{"thread": "7", SystemAttributes: "forged"}}
	_, _, msgs := decodeJSON(t, Final{SessionID: "s", StartAt: start, Events: []Event{notice, left}})
	want := []any{
		map[string]any{"purpose": "cancel-idle-timer"},
		map[string]any{"thread": "7", "GCTI_SYSTEM": map[string]any{"quit-reason-code": "7"}},
	}
	for i, w := range want {
		if got := msgs[i]["eventAttributes"]; !reflect.DeepEqual(got, w) {
			t.Errorf("message %d eventAttributes = %v, want %v", i, got, w)
		}
	}
}

// APIMessage's attributes read back as they were written, the party's
// apart from the server's, and a client's unknown kinds of value skipped.
func TestAttributesJSONRoundTrip(t *testing.T) {
	m := NewAPIMessage(Event{Index: 3, Type: ParticipantLeft, Time: start, PartyID: clientID, Visibility: VisAll,
		Reason: ReasonDisconnect, EventAttributes: map[string]string{"purpose": "x<&>"}}, nil)
	raw := m.AppendJSON(nil)
	var back APIMessage
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	if !reflect.DeepEqual(back.EventAttributes, m.EventAttributes) {
		t.Errorf("read back %+v from %s, want %+v", back.EventAttributes, raw, m.EventAttributes)
	}
	var odd Attributes
	if err := json.Unmarshal([]byte(`{"n":1,"o":{"a":"b"},"s":"v","GCTI_SYSTEM":{"k":"v","deep":{}}}`), &odd); err != nil {
		t.Fatal(err)
	}
	if want := (Attributes{Party: map[string]string{"s": "v"}, System: map[string]string{"k": "v"}}); !reflect.DeepEqual(odd, want) {
		t.Errorf("odd attributes = %+v, want %+v", odd, want)
	}
}

// A party's attributes are an eventAttributes element of string items after
// userData, as the bot's GCTI_SYSTEM node is in public-api-notes §4.1.
func TestFinalXMLPartyAttributes(t *testing.T) {
	e := Event{Index: 4, Type: Message, Time: start, PartyID: clientID, Visibility: VisAll, Text: "hi",
		UserData: map[string]string{"k": "v"}, EventAttributes: map[string]string{"purpose": "reply", "a&b": "<c>"}}
	got := parseXML(t, mustXML(t, Final{SessionID: "s", StartAt: start, Events: []Event{e}})).Kids[0]
	want := el("message", a("userId", clientID, "timeShift", "0", "visibility", "ALL", "eventId", "4"), "",
		el("msgText", nil, "hi"),
		el("userData", nil, "", item("k", "v")),
		el("eventAttributes", nil, "", item("a&b", "<c>"), item("purpose", "reply")))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("message element =\n%+v\nwant\n%+v", got, want)
	}
}

package transcript

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"testing"
)

// decodeJSON encodes f and decodes it generically, so that the test checks
// the wire shape rather than the encoder's own types.
func decodeJSON(t *testing.T, f Final) (raw []byte, doc map[string]any, msgs []map[string]any) {
	t.Helper()
	raw, err := f.JSON()
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, raw)
	}
	list, ok := doc["messages"].([]any)
	if !ok {
		t.Fatalf("messages is %T, want an array:\n%s", doc["messages"], raw)
	}
	for _, m := range list {
		msgs = append(msgs, m.(map[string]any))
	}
	return raw, doc, msgs
}

func TestFinalJSONEnvelope(t *testing.T) {
	_, doc, msgs := decodeJSON(t, sampleFinal())
	want := map[string]any{"sessionId": "005PAaH11EN8Q828", "startAt": "2022-03-05T07:09:33Z"}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %v, want %v", k, doc[k], v)
		}
	}
	if got := slices.Sorted(maps.Keys(doc)); !reflect.DeepEqual(got, []string{"messages", "sessionId", "startAt"}) {
		t.Errorf("top-level keys = %v", got)
	}
	if len(msgs) != len(sampleFinal().Events) {
		t.Errorf("got %d messages, want %d", len(msgs), len(sampleFinal().Events))
	}
}

func TestFinalJSONMessages(t *testing.T) {
	f := sampleFinal()
	_, _, msgs := decodeJSON(t, f)
	john := map[string]any{"nickname": "John", "participantId": 1.0, "type": "Client"}
	anna := map[string]any{"nickname": "Anna", "participantId": 2.0, "type": "Agent"}
	ms := func(i int) float64 { return float64(f.Events[i].Time.UnixMilli()) }
	want := []map[string]any{
		{"index": 1.0, "type": "ParticipantJoined", "utcTime": ms(0), "from": john, "visibility": "ALL",
			"userData": map[string]any{"FirstName": "John", "LastName": "Doe", "EmailAddress": "john@example.com"}},
		{"index": 3.0, "type": "Message", "utcTime": ms(1), "from": john, "visibility": "ALL", "text": "hi"},
		{"index": 4.0, "type": "ParticipantJoined", "utcTime": ms(2), "from": anna, "visibility": "ALL"},
		{"index": 5.0, "type": "Message", "utcTime": ms(3), "from": anna, "visibility": "INT",
			"text": "returning customer", "messageType": "note"},
		{"index": 6.0, "type": "CustomNotice", "utcTime": ms(4), "from": anna, "visibility": "ALL",
			"text": "InteractionId=005PAaH11EN8Q828", "userData": map[string]any{"source": "desktop"}},
		{"index": 8.0, "type": "PushUrl", "utcTime": ms(5), "from": anna, "visibility": "ALL",
			"text": "https://example.com/help?a=1&b=2"},
		{"index": 9.0, "type": "ParticipantLeft", "utcTime": ms(6), "from": anna, "visibility": "ALL",
			"eventAttributes": map[string]any{"GCTI_SYSTEM": map[string]any{"quit-reason-code": "4"}}},
		{"index": 10.0, "type": "ParticipantLeft", "utcTime": ms(7), "from": john, "visibility": "ALL"},
	}
	for i := range want {
		if !reflect.DeepEqual(msgs[i], want[i]) {
			t.Errorf("message %d:\n got %v\nwant %v", i, msgs[i], want[i])
		}
	}
}

func TestFinalJSONUTCTimeIsMillis(t *testing.T) {
	f := sampleFinal()
	_, _, msgs := decodeJSON(t, f)
	// 2022-03-05T07:09:33.350Z: the first event, 100 ms after the start.
	if got := msgs[0]["utcTime"]; got != 1646464173350.0 {
		t.Errorf("utcTime = %v, want 1646464173350", got)
	}
}

func TestFinalJSONReasonCodes(t *testing.T) {
	tests := []struct {
		reason Reason
		want   any // the GCTI_SYSTEM node, or nil for no eventAttributes
	}{
		{ReasonNone, nil},
		{ReasonLogout, map[string]any{"quit-reason-code": "0"}},
		{ReasonDisconnect, map[string]any{"quit-reason-code": "3"}},
		{ReasonRestored, map[string]any{"quit-reason-code": "8"}},
	}
	for _, tt := range tests {
		t.Run(tt.reason.Text(), func(t *testing.T) {
			e := Event{Index: 1, Type: ParticipantLeft, Time: start, PartyID: clientID, Visibility: VisAll, Reason: tt.reason}
			_, _, msgs := decodeJSON(t, Final{SessionID: "s", StartAt: start, Events: []Event{e}})
			attrs, ok := msgs[0]["eventAttributes"].(map[string]any)
			if tt.want == nil {
				if ok || msgs[0]["eventAttributes"] != nil {
					t.Errorf("eventAttributes = %v, want none", msgs[0]["eventAttributes"])
				}
				return
			}
			if !ok || !reflect.DeepEqual(attrs["GCTI_SYSTEM"], tt.want) {
				t.Errorf("eventAttributes = %v, want GCTI_SYSTEM %v", msgs[0]["eventAttributes"], tt.want)
			}
		})
	}
}

func TestFinalJSONSystemNoticeHasNoFrom(t *testing.T) {
	e := Event{Index: 1, Type: Notice, Time: start, Visibility: VisAll, Text: "file-client-cfg-get"}
	_, _, msgs := decodeJSON(t, Final{SessionID: "s", StartAt: start, Events: []Event{e}})
	if from, ok := msgs[0]["from"]; ok {
		t.Errorf("from = %v, want absent for an event of no party", from)
	}
}

func TestFinalJSONEmptyHasMessagesArray(t *testing.T) {
	raw, _, msgs := decodeJSON(t, Final{SessionID: "s", StartAt: start})
	if len(msgs) != 0 {
		t.Errorf("got %d messages in %s, want an empty array", len(msgs), raw)
	}
}

func TestFinalJSONEscapesText(t *testing.T) {
	const s = "<b>\"quoted\" & 'single'</b>\n Grüße 東京 🎉👍🏽"
	f := sampleFinal()
	f.Events[0].Party.Nickname = s
	f.Events[1].Text = s
	f.Events[1].UserData = map[string]string{s: s}
	_, _, msgs := decodeJSON(t, f)
	checkValue(t, "nickname", msgs[1]["from"].(map[string]any)["nickname"].(string), s)
	checkValue(t, "text", msgs[1]["text"].(string), s)
	checkValue(t, "userData", msgs[1]["userData"].(map[string]any)[s].(string), s)
}

func TestFinalJSONGolden(t *testing.T) {
	raw, _, _ := decodeJSON(t, sampleFinal())
	checkGolden(t, "final.json", append(raw, '\n'))
}

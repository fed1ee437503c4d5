package transcript

import (
	"encoding/json"
	"testing"
	"time"
)

// benchFinal is a realistic 35 s chat as the chat server files it: the client
// and an agent join, trade three messages each with typing notices between,
// a custom notice, the agent leaves with a reason and the client leaves.
func benchFinal() Final {
	client := &Party{ID: clientID, ParticipantID: 1, Type: Client, Nickname: "John Doe", TimeZoneOffset: 300,
		Protocol: "FLEX", KeyHash: clientKey, UserData: map[string]string{
			"FirstName": "John", "LastName": "Doe", "EmailAddress": "john.doe@example.com", "Subject": "Order 4411",
		}}
	agent := &Party{ID: agentID, ParticipantID: 2, Type: Agent, Nickname: "Anna", PersonID: "anna.smith",
		Protocol: "BASIC", Visibility: VisAll}
	ev := func(i int, typ EventType, ms int, from string) Event {
		return Event{Index: i, Type: typ, Time: at(time.Duration(ms) * time.Millisecond), PartyID: from, Visibility: VisAll}
	}
	msg := func(i, ms int, from, text string) Event {
		e := ev(i, Message, ms, from)
		e.Text = text
		return e
	}
	joinC, joinA := ev(1, ParticipantJoined, 0, clientID), ev(3, ParticipantJoined, 4100, agentID)
	joinC.Party, joinA.Party = client, agent
	notice := ev(7, CustomNotice, 9000, agentID)
	notice.Text, notice.UserData = "InteractionId=005PAaH11EN8Q828", map[string]string{"source": "desktop"}
	leftA, leftC := ev(15, ParticipantLeft, 33000, agentID), ev(16, ParticipantLeft, 35000, clientID)
	leftA.Reason, leftC.Reason = ReasonForceClose, ReasonNone
	return Final{SessionID: "005PAaH11EN8Q828", StartAt: start, Events: []Event{
		joinC,
		msg(2, 1200, clientID, "Hello, my order has not arrived yet."),
		joinA,
		msg(4, 6300, agentID, "Hi John, let me look that up for you."),
		ev(5, TypingStarted, 7000, clientID),
		msg(6, 8800, clientID, "It is order 4411, placed on Monday <3>."),
		notice,
		msg(8, 15500, agentID, "It ships today & arrives by Friday."),
		ev(9, TypingStarted, 17000, clientID),
		ev(10, TypingStopped, 18000, clientID),
		msg(11, 21000, clientID, "Great, thank you for the \"quick\" help!"),
		msg(12, 26000, agentID, "You're welcome. Anything else today?"),
		ev(13, TypingStarted, 28000, clientID),
		ev(14, TypingStopped, 29000, clientID),
		leftA,
		leftC,
	}}
}

func BenchmarkFinalXML(b *testing.B) {
	f := benchFinal()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.XML(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFinalJSON(b *testing.B) {
	f := benchFinal()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.JSON(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEventJSON encodes each event of the benchmark chat as a store
// writes it; EventJSONMarshal is the encoding/json it replaced.
func BenchmarkEventJSON(b *testing.B) {
	events := benchFinal().Events
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		for _, e := range events {
			var err error
			if buf, err = e.AppendJSON(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkEventJSONMarshal(b *testing.B) {
	events := benchFinal().Events
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range events {
			if _, err := json.Marshal(e); err != nil {
				b.Fatal(err)
			}
		}
	}
}

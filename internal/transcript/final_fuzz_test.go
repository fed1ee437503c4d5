package transcript

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

// The fuzz tests hold Final.XML and Final.JSON to the encoding/xml and
// encoding/json encoders they replaced (reference_test.go): the same bytes
// for every transcript, the same error for every invalid one; and
// Event.AppendJSON to json.Marshal, by what each reads back as.

func FuzzFinalXML(f *testing.F) {
	addFinalSeeds(f)
	f.Fuzz(func(t *testing.T, session, id, nick, text, key, value string, startMs, stepMs int64, plan []byte, broken uint8) {
		fin := fuzzFinal(fuzzStrings{session, id, nick, text, key, value}, startMs, stepMs, plan, broken)
		checkSameEncoding(t, "XML", fin.XML, func() ([]byte, error) { return referenceXML(fin) })
	})
}

func FuzzFinalJSON(f *testing.F) {
	addFinalSeeds(f)
	f.Fuzz(func(t *testing.T, session, id, nick, text, key, value string, startMs, stepMs int64, plan []byte, broken uint8) {
		fin := fuzzFinal(fuzzStrings{session, id, nick, text, key, value}, startMs, stepMs, plan, broken)
		checkSameEncoding(t, "JSON", fin.JSON, func() ([]byte, error) { return referenceJSON(fin) })
	})
}

// addFinalSeeds adds, beside the checked-in corpus, inputs that reach every
// event kind and the characters each encoding escapes.
func addFinalSeeds(f *testing.F) {
	every := make([]byte, 0, 2*len(fuzzEventTypes))
	for i := range fuzzEventTypes {
		every = append(every, byte(i)|byte(i)<<4, byte(i)<<4|0x0f)
	}
	f.Add("005PAaH11EN8Q828", clientID, "John", "hi", "LastName", "Doe", start.UnixMilli(), int64(1500), every, uint8(0))
	const nasty = "a]]>b\t\r\n\b\f\x7f&amp;\"\\\u2028\u2029\ufffd\ufffe\uffff\U0010ffff\xff\xc3"
	for _, broken := range []uint8{0, 0x05, 0x45, 0x85, 0xc5} {
		f.Add("s\"1'", "<id>", "Jo\x00hn\x1f", nasty, "k&", "v<>", int64(-1), int64(-700), every, broken)
	}
	f.Add("", "", "", "", "", "", int64(0), int64(0), []byte{}, uint8(0))
}

// checkSameEncoding fails t unless encode and its reference give the same
// bytes, or errors with the same text that both wrap ErrInvalidTranscript.
func checkSameEncoding(t *testing.T, what string, encode, reference func() ([]byte, error)) {
	t.Helper()
	got, err := encode()
	want, wantErr := reference()
	switch {
	case err != nil || wantErr != nil:
		if err == nil || wantErr == nil || err.Error() != wantErr.Error() || !errors.Is(err, ErrInvalidTranscript) {
			t.Fatalf("%s error = %v, reference error = %v", what, err, wantErr)
		}
	case !bytes.Equal(got, want):
		t.Fatalf("%s differs from the reference:\n got: %q\nwant: %q", what, got, want)
	}
}

// fuzzStrings are the fuzzed strings a transcript is built from.
type fuzzStrings struct{ session, id, nick, text, key, value string }

// fuzzEventTypes are the types a plan picks from: every known one, the three
// with their own elements twice.
var fuzzEventTypes = [16]EventType{ParticipantJoined, ParticipantLeft, Message, TypingStarted, TypingStopped,
	PushURL, NicknameUpdated, CustomNotice, Notice, FileUploaded, FileDeleted, IdleAlert, IdleClose,
	ParticipantJoined, ParticipantLeft, Message}

// fuzzReasons are the reasons a plan picks from: every known one and a few not.
var fuzzReasons = [16]Reason{ReasonNone, ReasonLogout, ReasonForceClose, ReasonDisconnect, ReasonRemoved,
	ReasonServer, ReasonBadKey, ReasonIdle, ReasonRestored, 1, 9, -2, 100, -1 << 31, 1<<31 - 1, ReasonNone}

// fuzzFinal builds a transcript of one event for each two bytes of plan. The
// first byte picks the type (bits 0-3), the visibility (4-5) and the sender
// (6-7); the second which optional fields are set (bits 0-3) and the reason
// (4-7). broken, when its low six bits index an event, makes that event
// invalid in one of four ways (bits 6-7).
func fuzzFinal(s fuzzStrings, startMs, stepMs int64, plan []byte, broken uint8) Final {
	fin := Final{SessionID: s.session, StartAt: time.UnixMilli(startMs)}
	for i := 0; i+1 < len(plan) && i < 64; i += 2 {
		fin.Events = append(fin.Events, fuzzEvent(s, len(fin.Events), fin.StartAt, stepMs, plan[i], plan[i+1]))
	}
	if n := int(broken & 0x3f); broken != 0 && n < len(fin.Events) {
		breakEvent(&fin.Events[n], broken>>6)
	}
	return fin
}

// fuzzEvent is event i of a fuzzed transcript, as fuzzFinal describes it.
func fuzzEvent(s fuzzStrings, i int, startAt time.Time, stepMs int64, kind, opts byte) Event {
	senders := [4]string{s.id, s.nick, "", s.id + "\x80"}
	vis := [4]Visibility{VisAll, VisInt, VisVIP, VisAll}
	e := Event{Index: i + 1, Type: fuzzEventTypes[kind&0x0f], Visibility: vis[kind>>4&3],
		PartyID: senders[kind>>6], Time: startAt.Add(time.Duration(int64(i)*stepMs) * time.Millisecond),
		Text: s.text[:len(s.text)*(i%3)/2], Reason: fuzzReasons[opts>>4]}
	if opts&1 != 0 {
		e.UserData = map[string]string{s.key: s.value, s.value: s.text}
	}
	if opts&2 != 0 {
		e.MessageType, e.NoticeType = s.nick, s.value
	}
	if opts&4 != 0 {
		e.AskerID = s.key
	}
	if e.Type == ParticipantJoined {
		e.Party = fuzzParty(s, i, opts&8 != 0)
	} else if opts&8 != 0 {
		e.EventAttributes = map[string]string{s.value: s.key, s.nick: s.text, "GCTI_SYSTEM": s.value}
	}
	return e
}

// fuzzParty is the party of a join, with user data and its own protocol when full.
func fuzzParty(s fuzzStrings, i int, full bool) *Party {
	types := [5]PartyType{Client, Agent, Supervisor, External, "Bot\t"}
	p := &Party{ID: s.id + s.nick[:len(s.nick)/2], ParticipantID: i - 3, Type: types[i%len(types)],
		Nickname: s.nick, PersonID: s.key, TimeZoneOffset: (i - 2) * 60, KeyHash: clientKey}
	if full {
		p.Protocol = s.value
		p.UserData = map[string]string{s.key: s.text, s.nick: s.value}
	}
	return p
}

// breakEvent makes e invalid: an unknown or empty type, a bad visibility or
// a join without its party.
func breakEvent(e *Event, how uint8) {
	switch how {
	case 0:
		e.Type = "Shout"
	case 1:
		e.Type = ""
	case 2:
		e.Visibility = "all"
	default:
		e.Type, e.Party = ParticipantJoined, nil
	}
}

// FuzzEventJSON checks that every event AppendJSON writes is valid JSON that
// reads back as what json.Marshal's output reads back as.
func FuzzEventJSON(f *testing.F) {
	addFinalSeeds(f)
	f.Fuzz(func(t *testing.T, session, id, nick, text, key, value string, startMs, stepMs int64, plan []byte, broken uint8) {
		fin := fuzzFinal(fuzzStrings{session, id, nick, text, key, value}, startMs, stepMs, plan, broken)
		for _, e := range fin.Events {
			checkEventJSON(t, e)
		}
	})
}

func checkEventJSON(t *testing.T, e Event) {
	t.Helper()
	got, err := e.AppendJSON(nil)
	want, wantErr := json.Marshal(e)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("event %d: AppendJSON error %v, json.Marshal error %v", e.Index, err, wantErr)
	}
	if err != nil {
		return
	}
	var back, wantBack Event
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("event %d: %s does not read back: %v", e.Index, got, err)
	}
	if err := json.Unmarshal(want, &wantBack); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, wantBack) {
		t.Fatalf("event %d: AppendJSON reads back as\n%+v\njson.Marshal as\n%+v", e.Index, back, wantBack)
	}
}

func TestEventJSONTimes(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	for _, at := range []time.Time{
		time.Date(2026, 12, 1, 13, 4, 5, 123_000_000, time.UTC),
		time.Date(2026, 12, 1, 14, 4, 5, 0, paris),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), // refused by both
		{},
	} {
		checkEventJSON(t, Event{Index: 3, Type: Message, Time: at, PartyID: "u", Visibility: VisAll, Text: "<&>"})
	}
}

package transcript

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const (
	clientID  = "009662230CAD7F2B"
	agentID   = "009662230CAF7F2D"
	superID   = "0096621C4785888C"
	clientKey = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
)

var start = time.Date(2022, 3, 5, 7, 9, 33, 250e6, time.UTC)

// at is the session start plus d, as the chat server would stamp an event.
func at(d time.Duration) time.Time { return start.Add(d) }

// sampleFinal is a realistic session. Index 2 (typing) and 7 (a typing stop)
// were delivered but not stored, so the indexes have gaps.
func sampleFinal() Final {
	client := &Party{ID: clientID, ParticipantID: 1, Type: Client, Nickname: "John", TimeZoneOffset: 300,
		UserData: map[string]string{"LastName": "Doe", "FirstName": "John", "EmailAddress": "john@example.com"},
		KeyHash:  clientKey}
	agent := &Party{ID: agentID, ParticipantID: 2, Type: Agent, Nickname: "Anna", PersonID: "anna.smith",
		Visibility: VisAll}
	return Final{SessionID: "005PAaH11EN8Q828", StartAt: start, Events: []Event{
		{Index: 1, Type: ParticipantJoined, Time: at(100 * time.Millisecond), PartyID: clientID, Visibility: VisAll, Party: client},
		{Index: 3, Type: Message, Time: at(900 * time.Millisecond), PartyID: clientID, Visibility: VisAll, Text: "hi"},
		{Index: 4, Type: ParticipantJoined, Time: at(1500 * time.Millisecond), PartyID: agentID, Visibility: VisAll, Party: agent},
		{Index: 5, Type: Message, Time: at(2 * time.Second), PartyID: agentID, Visibility: VisInt,
			Text: "returning customer", MessageType: "note"},
		{Index: 6, Type: CustomNotice, Time: at(2200 * time.Millisecond), PartyID: agentID, Visibility: VisAll,
			Text: "InteractionId=005PAaH11EN8Q828", UserData: map[string]string{"source": "desktop"}},
		{Index: 8, Type: PushURL, Time: at(5 * time.Second), PartyID: agentID, Visibility: VisAll,
			Text: "https://example.com/help?a=1&b=2"},
		{Index: 9, Type: ParticipantLeft, Time: at(13 * time.Second), PartyID: agentID, Visibility: VisAll,
			Reason: ReasonRemoved, AskerID: superID},
		{Index: 10, Type: ParticipantLeft, Time: at(14900 * time.Millisecond), PartyID: clientID, Visibility: VisAll,
			Reason: ReasonNone},
	}}
}

// node is an element of parsed XML, independent of the encoder's types.
type node struct {
	Name  string
	Attrs []string // "name=value", in document order
	Text  string   // character data of a leaf
	Kids  []node
}

// el builds an expected node; attrs alternate names and values.
func el(name string, attrs []string, text string, kids ...node) node {
	n := node{Name: name, Text: text, Kids: kids}
	for i := 0; i+1 < len(attrs); i += 2 {
		n.Attrs = append(n.Attrs, attrs[i]+"="+attrs[i+1])
	}
	return n
}

// a is shorthand for an attribute list.
func a(kv ...string) []string { return kv }

// rawElem is any element as encoding/xml decodes it.
type rawElem struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Kids    []rawElem  `xml:",any"`
}

// parseXML decodes doc into a node tree, dropping indentation between elements.
func parseXML(t *testing.T, doc []byte) node {
	t.Helper()
	var r rawElem
	if err := xml.Unmarshal(doc, &r); err != nil {
		t.Fatalf("output is not well-formed XML: %v\n%s", err, doc)
	}
	return toNode(t, r)
}

func toNode(t *testing.T, r rawElem) node {
	t.Helper()
	n := node{Name: r.XMLName.Local, Text: r.Text}
	for _, at := range r.Attrs {
		n.Attrs = append(n.Attrs, at.Name.Local+"="+at.Value)
	}
	for _, k := range r.Kids {
		n.Kids = append(n.Kids, toNode(t, k))
	}
	if len(n.Kids) > 0 {
		if strings.TrimSpace(n.Text) != "" {
			t.Errorf("<%s> mixes text %q with elements", n.Name, n.Text)
		}
		n.Text = ""
	}
	return n
}

func item(k, v string) node { return el("item", a("key", k, "type", "string"), v) }

// wantSample is sampleFinal's chatTranscript as public-api-notes §4.1 shows it.
func wantSample() node {
	ev := func(name, user, shift, vis, id string, extra []string, kids ...node) node {
		return el(name, append(a("userId", user, "timeShift", shift, "visibility", vis, "eventId", id), extra...), "", kids...)
	}
	return el("chatTranscript", a("startAt", "2022-03-05T07:09:33Z", "sessionId", "005PAaH11EN8Q828"), "",
		ev("newParty", clientID, "0", "ALL", "1", nil,
			el("userInfo", a("personId", "", "userNick", "John", "userType", "CLIENT", "protocolType", "FLEX", "timeZoneOffset", "300"), ""),
			el("userData", nil, "", item("EmailAddress", "john@example.com"), item("FirstName", "John"), item("LastName", "Doe"))),
		ev("message", clientID, "1", "ALL", "3", nil, el("msgText", nil, "hi")),
		ev("newParty", agentID, "1", "ALL", "4", nil,
			el("userInfo", a("personId", "anna.smith", "userNick", "Anna", "userType", "AGENT", "protocolType", "BASIC", "timeZoneOffset", "0"), "")),
		ev("message", agentID, "2", "INT", "5", nil, el("msgText", a("msgType", "note"), "returning customer")),
		ev("notice", agentID, "2", "ALL", "6", nil,
			el("noticeText", a("noticeType", "USER_CUSTOM"), "InteractionId=005PAaH11EN8Q828"),
			el("userData", nil, "", item("source", "desktop"))),
		ev("notice", agentID, "5", "ALL", "8", nil, el("noticeText", a("noticeType", "PUSH_URL"), "https://example.com/help?a=1&b=2")),
		ev("partyLeft", agentID, "13", "ALL", "9", a("askerId", superID), el("reason", a("code", "4"), "removed by other party")),
		ev("partyLeft", clientID, "15", "ALL", "10", a("askerId", clientID), el("reason", nil, "left")),
	)
}

func mustXML(t *testing.T, f Final) []byte {
	t.Helper()
	doc, err := f.XML()
	if err != nil {
		t.Fatalf("XML: %v", err)
	}
	return doc
}

func TestFinalXMLMatchesChatTranscript(t *testing.T) {
	doc := mustXML(t, sampleFinal())
	if !bytes.HasPrefix(doc, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n<chatTranscript ")) {
		t.Errorf("output does not start with the UTF-8 declaration and the root:\n%s", doc)
	}
	got, want := parseXML(t, doc), wantSample()
	if len(got.Kids) != len(want.Kids) {
		t.Fatalf("got %d events, want %d:\n%s", len(got.Kids), len(want.Kids), doc)
	}
	if !reflect.DeepEqual(got.Attrs, want.Attrs) {
		t.Errorf("root attributes = %q, want %q", got.Attrs, want.Attrs)
	}
	for i := range want.Kids {
		if !reflect.DeepEqual(got.Kids[i], want.Kids[i]) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got.Kids[i], want.Kids[i])
		}
	}
}

func TestFinalXMLGolden(t *testing.T) {
	checkGolden(t, "final.xml", mustXML(t, sampleFinal()))
}

// checkGolden compares got with testdata/name, or rewrites it under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update golden: %v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update if intended):\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestFinalXMLEscapesText(t *testing.T) {
	tests := []struct{ name, s string }{
		{"markup", `<b>bold</b> & <i>`},
		{"entities", "&amp; &lt; &#60;"},
		{"quotes", `"double" 'single'`},
		{"cdata end", "]]> <![CDATA[x]]>"},
		{"unicode", "Grüße, 東京, مرحبا"},
		{"emoji", "thanks 🎉👍🏽👨‍👩‍👧"},
		{"whitespace", "line 1\nline 2\r\n\tend "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := sampleFinal()
			f.Events[0].Party.Nickname = tt.s
			f.Events[0].Party.UserData = map[string]string{tt.s: tt.s}
			f.Events[1].Text = tt.s
			f.Events[3].MessageType = tt.s
			f.Events[4].Text = tt.s
			doc := mustXML(t, f)
			if strings.Contains(string(doc), "<b>") {
				t.Fatalf("markup written unescaped:\n%s", doc)
			}
			got := parseXML(t, doc)
			checkValue(t, "userNick", attr(got.Kids[0].Kids[0], "userNick"), tt.s)
			checkValue(t, "userData key", attr(got.Kids[0].Kids[1].Kids[0], "key"), tt.s)
			checkValue(t, "userData value", got.Kids[0].Kids[1].Kids[0].Text, tt.s)
			checkValue(t, "msgText", got.Kids[1].Kids[0].Text, tt.s)
			checkValue(t, "msgType", attr(got.Kids[3].Kids[0], "msgType"), tt.s)
			checkValue(t, "noticeText", got.Kids[4].Kids[0].Text, tt.s)
		})
	}
}

func checkValue(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

// attr is the value of n's attribute name, or "<absent>".
func attr(n node, name string) string {
	for _, kv := range n.Attrs {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v
		}
	}
	return "<absent>"
}

func TestFinalNeverWritesKeyHash(t *testing.T) {
	f := sampleFinal()
	x := mustXML(t, f)
	j, err := f.JSON()
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	for name, doc := range map[string][]byte{"XML": x, "JSON": j} {
		s := strings.ToLower(string(doc))
		if strings.Contains(s, clientKey) || strings.Contains(s, "keyhash") {
			t.Errorf("%s contains the client's key hash:\n%s", name, doc)
		}
	}
}

func TestFinalXMLNoticeTypes(t *testing.T) {
	tests := []struct {
		typ        EventType
		noticeType string
		want       string
	}{
		{CustomNotice, "", "USER_CUSTOM"},
		{PushURL, "", "PUSH_URL"},
		{NicknameUpdated, "", "NICKNAME_UPDATED"},
		{TypingStarted, "", "TYPING_STARTED"},
		{TypingStopped, "", "TYPING_STOPPED"},
		{FileUploaded, "", "FILE_UPLOADED"},
		{FileDeleted, "", "FILE_DELETED"},
		{Notice, "", "SYSTEM"},
		{IdleAlert, "", "SYSTEM"},
		{IdleClose, "", "SYSTEM"},
		{Notice, "IDLE_CONTROL_ALERT", "IDLE_CONTROL_ALERT"},
		{CustomNotice, "BOT_HANDOFF", "BOT_HANDOFF"},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ)+"/"+tt.want, func(t *testing.T) {
			e := Event{Index: 1, Type: tt.typ, Time: start, PartyID: agentID, Visibility: VisAll,
				Text: "x", NoticeType: tt.noticeType, UserData: map[string]string{"file-id": "7"}}
			got := parseXML(t, mustXML(t, Final{SessionID: "s", StartAt: start, Events: []Event{e}})).Kids[0]
			want := el("notice", a("userId", agentID, "timeShift", "0", "visibility", "ALL", "eventId", "1"), "",
				el("noticeText", a("noticeType", tt.want), "x"), el("userData", nil, "", item("file-id", "7")))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestFinalXMLReasons(t *testing.T) {
	tests := []struct {
		reason   Reason
		code     string
		text     string
		askerID  string
		wantAskr string
	}{
		{ReasonNone, "<absent>", "left", "", clientID},
		{ReasonLogout, "0", "left with request to logout", "", clientID},
		{ReasonForceClose, "2", "left with request to close forcedly", "", clientID},
		{ReasonDisconnect, "3", "left due to disconnect", "", clientID},
		{ReasonRemoved, "4", "removed by other party", agentID, agentID},
		{ReasonBadKey, "6", "removed due to bad secure key", "", clientID},
		{ReasonIdle, "7", "removed due to inactivity", "", clientID},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			e := Event{Index: 2, Type: ParticipantLeft, Time: start, PartyID: clientID, Visibility: VisAll,
				Reason: tt.reason, AskerID: tt.askerID}
			got := parseXML(t, mustXML(t, Final{SessionID: "s", StartAt: start, Events: []Event{e}})).Kids[0]
			checkValue(t, "askerId", attr(got, "askerId"), tt.wantAskr)
			if len(got.Kids) != 1 || got.Kids[0].Name != "reason" {
				t.Fatalf("partyLeft children = %+v, want one <reason>", got.Kids)
			}
			checkValue(t, "code", attr(got.Kids[0], "code"), tt.code)
			checkValue(t, "reason text", got.Kids[0].Text, tt.text)
		})
	}
}

func TestFinalXMLUserInfo(t *testing.T) {
	tests := []struct {
		typ      PartyType
		protocol string
		userType string
		wantProt string
	}{
		{Client, "", "CLIENT", "FLEX"},
		{Agent, "", "AGENT", "BASIC"},
		{Supervisor, "", "SUPERVISOR", "BASIC"},
		{External, "", "EXTERNAL", "ESP"},
		{Agent, "ESP", "AGENT", "ESP"},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ)+"/"+tt.wantProt, func(t *testing.T) {
			p := &Party{ID: "p1", Type: tt.typ, Nickname: "n", Protocol: tt.protocol, TimeZoneOffset: -120}
			e := Event{Index: 1, Type: ParticipantJoined, Time: start, Visibility: VisAll, Party: p}
			got := parseXML(t, mustXML(t, Final{SessionID: "s", StartAt: start, Events: []Event{e}})).Kids[0]
			checkValue(t, "userId", attr(got, "userId"), "p1")
			want := el("userInfo", a("personId", "", "userNick", "n", "userType", tt.userType,
				"protocolType", tt.wantProt, "timeZoneOffset", "-120"), "")
			if len(got.Kids) != 1 || !reflect.DeepEqual(got.Kids[0], want) {
				t.Errorf("children = %+v, want only %+v", got.Kids, want)
			}
		})
	}
}

func TestFinalXMLTimeShift(t *testing.T) {
	tests := []struct {
		after time.Duration
		want  string
	}{
		// start is at 07:09:33.250: the shift counts wall-clock seconds.
		{0, "0"},
		{749 * time.Millisecond, "0"},
		{750 * time.Millisecond, "1"},
		{time.Second, "1"},
		{61*time.Minute + 1500*time.Millisecond, "3661"},
		{-2 * time.Second, "0"}, // a restored session's clock may lag
	}
	for _, tt := range tests {
		t.Run(tt.after.String(), func(t *testing.T) {
			e := Event{Index: 1, Type: Message, Time: start.Add(tt.after), PartyID: clientID, Visibility: VisAll}
			got := parseXML(t, mustXML(t, Final{SessionID: "s", StartAt: start, Events: []Event{e}})).Kids[0]
			checkValue(t, "timeShift", attr(got, "timeShift"), tt.want)
		})
	}
}

func TestFinalRejectsInvalidEvents(t *testing.T) {
	tests := []struct {
		name string
		e    Event
	}{
		{"unknown type", Event{Index: 1, Type: "Shout", Visibility: VisAll}},
		{"empty visibility", Event{Index: 1, Type: Message}},
		{"bad visibility", Event{Index: 1, Type: Message, Visibility: "all"}},
		{"join without party", Event{Index: 1, Type: ParticipantJoined, PartyID: clientID, Visibility: VisAll}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Final{SessionID: "s", StartAt: start, Events: []Event{tt.e}}
			if _, err := f.XML(); !errors.Is(err, ErrInvalidTranscript) {
				t.Errorf("XML error = %v, want ErrInvalidTranscript", err)
			}
			if _, err := f.JSON(); !errors.Is(err, ErrInvalidTranscript) {
				t.Errorf("JSON error = %v, want ErrInvalidTranscript", err)
			}
		})
	}
}

func TestFinalXMLEmpty(t *testing.T) {
	got := parseXML(t, mustXML(t, Final{SessionID: "s1", StartAt: start.In(time.FixedZone("EST", -5*3600))}))
	want := el("chatTranscript", a("startAt", "2022-03-05T07:09:33Z", "sessionId", "s1"), "")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

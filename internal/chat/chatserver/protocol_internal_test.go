package chatserver

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/transcript"
)

// FuzzStatusJSON holds status.AppendJSON to json.Marshal: valid JSON, no raw
// newline (the wire's frame separator), and the same value read back.
func FuzzStatusJSON(f *testing.F) {
	f.Add("0001KaC3A6R5006K", "00A65C2AD4720003", "", "chat-1", "Hello, I need help", "John", false, 3, false, false)
	f.Add("s\"1", "<u>\n", "k&y", "\u2028", "a]]>b\t\r\n\x00\xff\xc3", "Jo\x1fhn", true, 0, true, true)
	f.Fuzz(func(t *testing.T, sessionID, userID, key, alias, text, nick string, ended bool, pos int, push, noMessages bool) {
		st := status{SessionID: sessionID, UserID: userID, SecureKey: key, Alias: alias, ChatEnded: ended, NextPosition: pos}
		if !noMessages {
			from := &transcript.Party{ID: userID, ParticipantID: 1, Type: transcript.Client, Nickname: nick}
			at := time.UnixMilli(1_764_594_000_000)
			st.Messages = []transcript.APIMessage{
				transcript.NewAPIMessage(transcript.Event{Index: 1, Type: transcript.ParticipantJoined, Time: at, PartyID: userID, Visibility: transcript.VisAll, Party: from}, from),
				transcript.NewAPIMessage(transcript.Event{Index: 2, Type: transcript.Message, Time: at, PartyID: userID, Visibility: transcript.VisAll, Text: text, UserData: map[string]string{nick: text}}, from),
			}
		}
		if push {
			st.Push = &pushDevice{DeviceID: key, Type: nick}
		}
		got := st.AppendJSON(nil)
		if bytes.IndexByte(got, '\n') >= 0 {
			t.Fatalf("raw newline in %q", got)
		}
		want, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var gotV, wantV any
		if err := json.Unmarshal(got, &gotV); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		if err := json.Unmarshal(want, &wantV); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gotV, wantV) {
			t.Fatalf("AppendJSON\n%s\njson.Marshal\n%s", got, want)
		}
	})
}

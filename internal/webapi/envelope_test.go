package webapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/parley-chat/parley/internal/transcript"
	"github.com/parley-chat/parley/internal/wire"
)

// checkEncode fails unless env.encode() is what json.Marshal makes of env.
func checkEncode(t *testing.T, env envelope) {
	t.Helper()
	got := env.encode()
	want, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encode:\n%s\njson.Marshal:\n%s", got, want)
	}
}

func TestEnvelopeEncode(t *testing.T) {
	var st status
	if err := json.Unmarshal([]byte(plainStatuses[3]), &st); err != nil {
		t.Fatal(err)
	}
	full := okEnvelope(st)
	full.SecureKey, full.UserData = "k&1", map[string]string{"b": "<2>", "a": "1"}
	for _, env := range []envelope{
		{},
		okEnvelope(status{SessionID: "s", UserID: "u", Alias: "chat-1", NextPosition: 3}),
		full,
		errorEnvelope(errors.New("secret")),
		errorEnvelope(wire.Errorf(wire.CodeBadRequest, "<b>%s</b> & \u2028", "x\xff")),
	} {
		checkEncode(t, env)
	}
}

// TestIdleTimerExpire: a reply carrying an IdleAlert says when its
// countdown runs out (utcTime + next-idle-timer-secs, in ms), unless a
// later event in it ended the countdown.
func TestIdleTimerExpire(t *testing.T) {
	alert := transcript.APIMessage{Index: 5, Type: transcript.IdleAlert, UTCTime: 1_000_000, Text: "still there?",
		UserData: map[string]string{"next-idle-timer-type": "IDLE_CONTROL_CLOSE", "next-idle-timer-secs": "45"}, Visibility: transcript.VisAll}
	msg := transcript.APIMessage{Index: 6, Type: transcript.Message, UTCTime: 1_010_000, Text: "yes", Visibility: transcript.VisAll}
	typing := transcript.APIMessage{Index: 6, Type: transcript.TypingStarted, UTCTime: 1_010_000, Visibility: transcript.VisAll}
	bad := alert
	bad.UserData = map[string]string{"next-idle-timer-secs": "soon"}
	for _, tt := range []struct {
		name string
		msgs []transcript.APIMessage
		want int64
	}{
		{"alert", []transcript.APIMessage{alert}, 1_045_000},
		{"alert then typing", []transcript.APIMessage{alert, typing}, 1_045_000},
		{"alert then message", []transcript.APIMessage{alert, msg}, 0},
		{"no alert", []transcript.APIMessage{msg}, 0},
		{"bad seconds", []transcript.APIMessage{bad}, 0},
	} {
		env := envelope{Messages: tt.msgs}
		checkEncode(t, env)
		if env.encode(); env.IdleTimerExpire != tt.want {
			t.Errorf("%s: idleTimerExpire %d, want %d", tt.name, env.IdleTimerExpire, tt.want)
		}
	}
}

// FuzzEnvelopeEncode checks encode against json.Marshal with text from
// customers and agents in every string an envelope carries.
func FuzzEnvelopeEncode(f *testing.F) {
	f.Add("chat-1", "Ann <a&b>", "caf\u00e9 \"q\" \u2028 \x01", "Order", "42", 7, true)
	f.Add("", "", "\xff\xfe", "", "", -1, false)
	f.Fuzz(func(t *testing.T, alias, nick, text, key, value string, n int, ended bool) {
		m := transcript.APIMessage{Index: n, Type: transcript.Message, UTCTime: int64(n) * 1000,
			From: &transcript.APIFrom{Nickname: nick, ParticipantID: n, Type: transcript.Client},
			Text: text, MessageType: value, UserData: map[string]string{key: value}, Visibility: transcript.VisAll,
			EventAttributes: transcript.Attributes{Party: map[string]string{key: text, transcript.SystemAttributes: key}, System: map[string]string{value: text}}}
		checkEncode(t, envelope{StatusCode: n, Alias: alias, ChatEnded: ended, ChatID: text, UserID: nick, SecureKey: value,
			NextPosition: n + 1, Messages: []transcript.APIMessage{m, {Index: n + 1}}, UserData: map[string]string{key: text},
			Errors: []apiError{{Code: n, Advice: text}}})
	})
}

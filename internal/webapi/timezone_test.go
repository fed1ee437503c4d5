package webapi_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/parley-chat/parley/internal/transcript"
)

// clientTimeZone returns the timeZoneOffset the chat server recorded for
// the client of chat id (its join, as the transcript's userInfo shows it).
func clientTimeZone(t *testing.T, cs chatServer, id string) int {
	t.Helper()
	snap, err := cs.db.Transcripts().Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range snap.Events {
		if e.Type == transcript.ParticipantJoined && e.Party != nil && e.Party.Type == transcript.Client {
			return e.Party.TimeZoneOffset
		}
	}
	t.Fatalf("no client join in %+v", snap.Events)
	return 0
}

// TestTimeZone: userData TimeZone (minutes, -480 for PST) becomes the
// client's timeZoneOffset, as GMS passes it to Chat Server, over REST and
// CometD; a value that is no offset is ignored.
func TestTimeZone(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, nil, cs)
	for _, tt := range []struct {
		tz   string
		want int
	}{{"-480", -480}, {"330", 330}, {"PST", 0}, {"9999", 0}} {
		c := w.requestChat(url.Values{"userData[TimeZone]": {tt.tz}})
		if got := clientTimeZone(t, cs, c.chatID); got != tt.want {
			t.Errorf("REST TimeZone %q: timeZoneOffset %d, want %d", tt.tz, got, tt.want)
		}
	}
	env := dialComet(w, chatChannel).requestChatWith(map[string]any{"nickname": "Ann", "userData": map[string]any{"TimeZone": -300}})
	if got := clientTimeZone(t, cs, env.ChatID); got != -300 {
		t.Errorf("CometD TimeZone -300: timeZoneOffset %d", got)
	}
}

package bayeux

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestMalformed(t *testing.T) {
	big := `{"id":"9","channel":"/a","data":"` + strings.Repeat("x", 1100) + `"}`
	tests := []struct {
		name       string
		body       string
		wantStatus int      // HTTP status when not 200
		wantErrors []string // the error field of each reply, "" for success
	}{
		{"not json", `hello`, http.StatusBadRequest, nil},
		{"truncated", `[{"channel":`, http.StatusBadRequest, nil},
		{"empty body", ``, http.StatusBadRequest, nil},
		{"empty array", `[]`, 0, []string{}},
		{"not an object", `[1, "x", null]`, 0, []string{"400::message is not a JSON object", "400::message is not a JSON object", "400::message is not a JSON object"}},
		{"no channel", `{"id":"1"}`, 0, []string{"400::missing channel"}},
		{"bad channel", `{"id":"1","channel":"a/b"}`, 0, []string{"400::invalid channel"}},
		{"channel not a string", `{"id":"1","channel":5}`, 0, []string{"400::invalid message field"}},
		{"id an object", `{"id":{},"channel":"/meta/handshake"}`, 0, []string{"400::invalid id"}},
		{"unknown meta", `{"id":"1","channel":"/meta/foo"}`, 0, []string{"400::unknown meta channel"}},
		{"too large", big, 0, []string{"413::message too large"}},
		{"publish without clientId", `{"id":"1","channel":"/a","data":1}`, 0, []string{"402::Unknown client"}},
		{"publish unknown clientId", `{"id":"1","channel":"/a","clientId":"x","data":1}`, 0, []string{"402::Unknown client"}},
		{"connect without connectionType", `{"id":"1","channel":"/meta/connect","clientId":"x"}`, 0, []string{"400::missing or unsupported connectionType"}},
		{"bad advice", `{"id":"1","channel":"/meta/connect","advice":{"timeout":"x"}}`, 0, []string{"400::invalid message field"}},
		{"mixed", `[{"id":"1","channel":"/meta/foo"},{"id":"2","channel":"/meta/handshake"}]`, 0, []string{"400::unknown meta channel", ""}},
		{"body too large", `[` + strings.Repeat(big+",", 16) + big + `]`, http.StatusRequestEntityTooLarge, nil},
	}
	checkLeaks(t)
	ts := startServer(t, Options{MaxMessageSize: 1024}, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSession(t, ts, "long-polling")
			s.sendRaw("", []byte(tt.body))
			if tt.wantStatus != 0 {
				m := s.expect("HTTP error", func(m msg) bool { return m["httpStatus"] != nil })
				if m["httpStatus"] != float64(tt.wantStatus) {
					t.Fatalf("status %v, want %d", m["httpStatus"], tt.wantStatus)
				}
				return
			}
			for i, want := range tt.wantErrors {
				m := s.expect(fmt.Sprintf("reply %d", i), func(msg) bool { return true })
				if got, _ := m["error"].(string); got != want || (want == "") != (m["successful"] == true) {
					t.Errorf("reply %d: %v, want error %q", i, m, want)
				}
				if m["decodeError"] == nil && tt.name != "not an object" && tt.name != "id an object" && m["id"] == nil {
					t.Errorf("reply %d lost the id: %v", i, m)
				}
			}
		})
	}
}

func TestMalformedWebsocketFrame(t *testing.T) {
	checkLeaks(t)
	ts := startServer(t, Options{}, nil)
	s := newSession(t, ts, "websocket")
	s.sendRaw("", []byte("not json"))
	m := s.expect("error reply", func(m msg) bool { return m["successful"] == false })
	if m["error"] != "400::frame is not JSON" || m["channel"] != "/meta/unsuccessful" {
		t.Fatalf("reply %v", m)
	}
	s.handshake() // the connection goes on
}

func TestMethodNotAllowed(t *testing.T) {
	ts := startServer(t, Options{}, nil)
	resp, err := http.Get(ts.url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET without upgrade: %d", resp.StatusCode)
	}
}

func TestMessageTypeURLSuffix(t *testing.T) {
	checkLeaks(t)
	ts := startServer(t, Options{}, nil)
	s := newSession(t, ts, "long-polling")
	s.sendRaw("/handshake", []byte(`[{"id":"1","channel":"/meta/handshake","supportedConnectionTypes":["long-polling"]}]`))
	r := s.reply("1")
	s.clientID = r["clientId"].(string)
	// The suffix does not route: the channel of the message does.
	s.sendRaw("/subscribe", []byte(`[{"id":"2","channel":"/meta/connect","connectionType":"long-polling","clientId":"`+s.clientID+`"}]`))
	if r := s.reply("2"); r["channel"] != "/meta/connect" || r["successful"] != true {
		t.Fatalf("connect at /subscribe: %v", r)
	}
}

// TestConcurrentClients runs many clients on both transports at once, each
// publishing to the echo service while its connect is held, and checks that
// each gets its own echoes and nobody else's.
func TestConcurrentClients(t *testing.T) {
	checkLeaks(t)
	ts := startServer(t, Options{}, func(s *Server) { s.HandleService("/service/echo", echoService) })
	const clients, rounds = 16, 10
	var wg sync.WaitGroup
	for i := range clients {
		tr := []string{"websocket", "long-polling", "callback-polling"}[i%3]
		s := newSession(t, ts, tr)
		wg.Go(func() {
			s.connected()
			for r := range rounds {
				text := fmt.Sprintf("%s-%d", s.clientID, r)
				if tr != "websocket" {
					s.connect() // held, completed by the echo
				}
				if rep := s.request(msg{"channel": "/service/echo", "data": msg{"text": text}}); rep["successful"] != true {
					t.Errorf("publish: %v", rep)
					return
				}
				if d := s.delivery("/service/echo"); d["data"].(msg)["echo"] != text {
					t.Errorf("client %s got %v, want %s", s.clientID, d, text)
					return
				}
			}
			s.request(msg{"channel": "/meta/disconnect"})
		})
	}
	wg.Wait()
	eventually(t, "all clients gone", func() bool { ts.mu.RLock(); defer ts.mu.RUnlock(); return len(ts.clients) == 0 })
}

package bench

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/bayeux"
)

// TestBayeuxClientAgainstOurServer runs the generator's Bayeux client, over
// both transports, against internal/bayeux with a service that answers each
// publish with a delivery, as the web API's chatV2 service does, and pushes
// one more later, as a chat's events are.
func TestBayeuxClientAgainstOurServer(t *testing.T) {
	srv := bayeux.New(bayeux.Options{Timeout: 500 * time.Millisecond})
	srv.HandleService("/service/echo", func(_ context.Context, c *bayeux.Client, ch string, data json.RawMessage) error {
		if err := c.Deliver(ch, data); err != nil {
			return err
		}
		go func() { _ = c.Deliver(ch, map[string]string{"pushed": "later"}) }()
		return nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go srv.Run(ctx)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	for _, tr := range []Transport{WebSocket, LongPolling} {
		t.Run(string(tr), func(t *testing.T) { echoRoundTrip(t, hs.URL, tr) })
	}
}

func echoRoundTrip(t *testing.T, url string, tr Transport) {
	e := newCometEndpoint(url, "x", tr)
	e.url = url // the test server serves Bayeux at its root
	got := make(chan string, 4)
	var transport bxTransport = newPollTransport(e.url, e.http)
	if tr == WebSocket {
		ws, err := dialWS(t.Context(), e.url)
		if err != nil {
			t.Fatal(err)
		}
		transport = ws
	}
	c := newBayeuxClient(transport, func(_ string, data json.RawMessage) { got <- string(data) })
	defer c.close()
	if err := c.handshake(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := c.subscribe(t.Context(), "/service/echo"); err != nil {
		t.Fatal(err)
	}
	if err := c.publish(t.Context(), "/service/echo", map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`{"n":1}`, `{"pushed":"later"}`} {
		select {
		case d := <-got:
			if d != want {
				t.Errorf("delivery %s, want %s", d, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no delivery %s", want)
		}
	}
}

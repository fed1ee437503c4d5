package ixnserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/ixn/ixnserver"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/wire"
)

// fakeESP is a chat server's ESP side that answers every Request3rdServer
// with its own name, the request's method and its parameters.
func fakeESP(t *testing.T, name string) service.Endpoint {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/wire/esp" {
			http.NotFound(w, r)
			return
		}
		c, err := wire.Accept(w, r, wire.Options{})
		if err != nil {
			return
		}
		c.Serve(r.Context(), wire.HandlerFunc(func(_ context.Context, c *wire.Conn, m wire.Message) {
			var req struct {
				InteractionID, AppName, Method string
				Parameters                     map[string]string
			}
			json.Unmarshal(m.Body, &req)
			if req.Parameters["fail"] != "" {
				c.ReplyError(m, wire.Errorf(wire.CodeNoSuchSession, "no such session"))
				return
			}
			c.Reply(m, wire.Event3rdServerResponse, map[string]any{"interactionId": req.InteractionID, "appName": name,
				"method": req.Method, "parameters": req.Parameters, "to": req.AppName})
		}))
	}))
	t.Cleanup(srv.Close)
	return service.Endpoint{Name: name, Addr: strings.TrimPrefix(srv.URL, "http://")}
}

// startRelay is an interaction server connected to chat servers chat-1 and
// chat-2 (fakes) and chat-3, which is down.
func startRelay(t *testing.T) *harness {
	t.Helper()
	ln := listenDead(t)
	chats := map[string]service.Endpoint{"chat-1": fakeESP(t, "chat-1"), "chat-2": fakeESP(t, "chat-2"), "chat-3": {Name: "chat-3", Addr: ln}}
	return startConfig(t, onSQLite, onSQLite.fresh(t), newClock(), ixnserver.Config{Options: defaultOptions(t), ChatServers: chats})
}

// listenDead returns an address where nothing listens.
func listenDead(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	return addr
}

func espBody(id, method string, params map[string]string) map[string]any {
	return map[string]any{"interactionId": id, "service": "Chat", "method": method, "parameters": params}
}

// TestESPRelay: a routing client's Request3rdServer reaches the chat server
// the interaction names, or the one it names itself, and its answer comes
// back; a chat server's error comes back with its code.
func TestESPRelay(t *testing.T) {
	h := startRelay(t)
	media := h.register("chat-2", "media-server")
	media.ok(wire.RequestSubmit, map[string]any{"interactionId": "I1", "queue": "default", "properties": map[string]string{"ChatServerApplication": "chat-2"}})
	media.ok(wire.RequestSubmit, map[string]any{"interactionId": "I2", "queue": "default"})
	flow := h.register("flow-1", "routing")

	got := flow.ok(wire.Request3rdServer, espBody("I1", "Message", map[string]string{"MessageText": "hi"}))
	if got["appName"] != "chat-2" || got["to"] != "chat-2" || got["method"] != "Message" {
		t.Errorf("relayed to the holder: %v", got)
	}
	named := espBody("I1", "Transcript", nil)
	named["appName"] = "chat-1"
	if got := flow.ok(wire.Request3rdServer, named); got["appName"] != "chat-1" {
		t.Errorf("relayed to the named chat server: %v", got)
	}
	if got := flow.ok(wire.Request3rdServer, espBody("I1", "Restore", nil)); got["appName"] != "chat-1" {
		t.Errorf("a Restore goes to another chat server than the holder first: %v", got)
	}
	flow.fails(wire.Request3rdServer, espBody("I1", "Message", map[string]string{"fail": "1"}), wire.CodeNoSuchSession)
	if got := media.ok(wire.Request3rdServer, map[string]any{"interactionId": "I1", "appName": "chat-1", "service": "Chat", "method": "Purge"}); got["method"] != "Purge" {
		t.Errorf("a media server's purge: %v", got)
	}
}

// TestESPRelayRefusals: each refused Request3rdServer gets its code.
func TestESPRelayRefusals(t *testing.T) {
	h := startRelay(t)
	media := h.register("chat-1", "media-server")
	media.ok(wire.RequestSubmit, map[string]any{"interactionId": "I1", "queue": "default", "properties": map[string]string{"ChatServerApplication": "chat-3"}})
	media.ok(wire.RequestSubmit, map[string]any{"interactionId": "I2", "queue": "default"})
	flow := h.register("flow-1", "routing")

	h.dial("anon").fails(wire.Request3rdServer, espBody("I1", "Message", nil), wire.CodeNotRegistered)
	h.agent("alice").fails(wire.Request3rdServer, espBody("I1", "Message", nil), wire.CodeNotAllowed)
	media.fails(wire.Request3rdServer, espBody("I1", "Message", nil), wire.CodeNotAllowed)
	flow.fails(wire.Request3rdServer, espBody("NOPE", "Message", nil), wire.CodeNoSuchInteraction)
	flow.fails(wire.Request3rdServer, espBody("I2", "Message", nil), wire.CodeInvalidState)
	flow.fails(wire.Request3rdServer, map[string]any{"interactionId": "I1", "service": "Chat", "method": "Message", "extra": 1}, wire.CodeBadRequest)
	unknown := espBody("I1", "Message", nil)
	unknown["appName"] = "chat-9"
	flow.fails(wire.Request3rdServer, unknown, wire.CodeBadRequest)
	flow.fails(wire.Request3rdServer, espBody("I1", "Message", nil), wire.CodeUnavailable) // chat-3 is down
}

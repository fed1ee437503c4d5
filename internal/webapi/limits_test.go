package webapi_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/wire"
)

// hostPort is the host:port of a web API.
func (w *web) hostPort() string {
	return strings.TrimPrefix(strings.SplitN(w.base, "/genesys", 2)[0], "http://")
}

// TestPublicListenerConnCap fills max-connections-per-address with served
// keep-alive connections: the next is closed at once and counted in
// parley_webapi_refused_total.
func TestPublicListenerConnCap(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, func(o *config.WebAPIOptions) { o.Limits.MaxConnectionsPerAddress = 3 }, cs)
	for range 3 {
		c, err := net.Dial("tcp", w.hostPort())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || resp.StatusCode != 200 {
			t.Fatalf("connection under the cap: %v %v", resp, err)
		}
	}
	extra, err := net.Dial("tcp", w.hostPort())
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	extra.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, extra); err != nil {
		t.Fatalf("connection past the cap not closed: %v", err)
	}
	if n := w.srv.Refused("connections-per-address"); n != 1 {
		t.Errorf("refused{connections-per-address} = %v, want 1", n)
	}
}

// TestCometDLimits checks the web API's CometD caps: clients per address
// (a handshake past it refused, counted), and a held connect answered
// after its hold although that is past http-write-timeout.
func TestCometDLimits(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, func(o *config.WebAPIOptions) {
		o.Limits.CometDClientsPerAddress = 2
		o.Limits.HTTPWriteTimeout = time.Second
		o.CometD.Timeout = 3 * time.Second
	}, cs)
	held := dialComet(w, "/service/chatV2/customer-support") // its connect loop holds connects
	dialComet(w, "/service/chatV2/customer-support")
	third := &cometClient{t: t, url: held.url}
	r, err := third.post(t.Context(), map[string]any{"channel": "/meta/handshake", "version": "1.0",
		"supportedConnectionTypes": []string{"long-polling"}})
	if err != nil || len(r) == 0 || r[0].Successful == nil || *r[0].Successful || !strings.HasPrefix(r[0].Error, "503:") {
		t.Errorf("third handshake: %+v %v, want a 503", r, err)
	}
	if n := w.srv.Refused("cometd-clients"); n != 1 {
		t.Errorf("refused{cometd-clients} = %v, want 1", n)
	}
	if r := held.send(map[string]any{"channel": "/meta/subscribe", "subscription": "/**"}); *r.Successful {
		t.Errorf("subscription to /**: %+v, want refused", r)
	}
	// The loop's second connect is held 3 s, past the 1 s write timeout:
	// a third is sent only when the second was answered.
	eventually(t, "a held connect answered after its 3 s hold", func() bool {
		held.mu.Lock()
		defer held.mu.Unlock()
		return len(held.connects) >= 3
	})
}

// TestNewChatsPerAddress requests new-chats-per-address chats from one
// address, then one more over REST and one over CometD: both refused with
// 113 and counted; the chats already made go on.
func TestNewChatsPerAddress(t *testing.T) {
	cs := startChat(t, "chat-1", nil)
	w := startWeb(t, func(o *config.WebAPIOptions) { o.Limits.NewChatsPerAddress = 3 }, cs)
	var chats []customer
	for range 3 {
		chats = append(chats, w.requestChat(nil))
	}
	_, env := w.post("", url.Values{"nickname": {"Flood"}})
	if env.StatusCode != 1 || env.code() != int(wire.CodeRateLimited) {
		t.Errorf("fourth chat over REST: %+v, want statusCode 1, code 113", env)
	}
	cc := dialComet(w, chatChannel)
	cc.publish(map[string]any{"operation": "requestChat", "nickname": "Flood"})
	eventually(t, "the CometD chat request answered", func() bool { return len(cc.deliveries()) > 0 })
	if env := cc.deliveries()[0].env; env.StatusCode != 1 || env.code() != int(wire.CodeRateLimited) {
		t.Errorf("fourth chat over CometD: %+v, want statusCode 1, code 113", env)
	}
	if n := w.srv.Refused("new-chats"); n != 2 {
		t.Errorf("refused{new-chats} = %v, want 2", n)
	}
	chats[0].must("send", "message", "still here")
}

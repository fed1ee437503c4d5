package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/wire"
)

// testPeer is a test playing the part of one application of a running
// deployment (a web API's, its agent desktop bridge's, a chat server's): it
// proves that name with the deployment secret, as the application would.
type testPeer struct {
	name string
	key  auth.Key
	tls  *tls.Config // trusts the deployment's CA; nil for plain text
}

// peerAs returns the test as application name of the deployment whose
// data-dir is dataDir; the secret is the one parley made there on start.
func peerAs(t *testing.T, dataDir, name string) testPeer {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dataDir, "secret"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := auth.NewKey(bytes.TrimSpace(data))
	if err != nil {
		t.Fatal(err)
	}
	return testPeer{name: name, key: key}
}

// dial opens a connection to the application server at url, served with
// onEvent (may be nil), and proves the peer on it; it fails the test when
// server does not admit it.
func (p testPeer) dial(ctx context.Context, t *testing.T, url, server string, onEvent func(wire.Message)) *wire.Conn {
	t.Helper()
	c, err := p.tryDial(ctx, url, server, onEvent)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); <-c.Done() })
	return c
}

// tryDial is dial returning the error; the caller closes the connection.
func (p testPeer) tryDial(ctx context.Context, url, server string, onEvent func(wire.Message)) (*wire.Conn, error) {
	c, err := wire.Dial(ctx, url, wire.Options{TLS: p.tls})
	if err != nil {
		return nil, err
	}
	go c.Serve(ctx, wire.HandlerFunc(func(_ context.Context, _ *wire.Conn, m wire.Message) {
		if onEvent != nil {
			onEvent(m)
		}
	}))
	if err := auth.Handshake(ctx, c, auth.Credentials{Name: p.name, Key: p.key}, server); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// grant signs what lets agent join chat session id, as the interaction
// server signs it when it gives the agent the chat.
func (p testPeer) grant(agent, id string) string {
	return p.key.SignGrant(auth.Grant{Agent: agent, Session: id, PartyType: "Agent", Visibility: "ALL",
		Expires: time.Now().Add(auth.DefaultGrantTTL)})
}

// get sends a GET to url on the application server, signed by the peer.
func (p testPeer) get(url, server string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	p.key.SignRequest(req, p.name, server, time.Now())
	return p.client().Do(req)
}

// adminGet sends a GET to url with the deployment's admin credential.
func (p testPeer) adminGet(url string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+p.key.AdminToken())
	return p.client().Do(req)
}

// client is an HTTP client that trusts what the peer trusts.
func (p testPeer) client() *http.Client {
	if p.tls == nil {
		return http.DefaultClient
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: p.tls.Clone()}}
}

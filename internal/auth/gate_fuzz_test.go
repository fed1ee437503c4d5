package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/wire"
)

// FuzzGate plays an attacker without the deployment key: up to three
// messages of the opening exchange (each a name picked by the input's byte
// and an arbitrary body) on one connection to a Gate. Whatever it sends,
// the gate answers or refuses without a panic, and never admits it: the
// guarded handler never answers.
func FuzzGate(f *testing.F) {
	for _, seed := range [][]byte{
		[]byte("\x00{\"client\":\"chat1\",\"nonce\":\"abc\"}\n\x01{\"proof\":\"00\"}"),
		[]byte("\x00{\"client\":\"router\",\"nonce\":\"\"}\n\x01{\"proof\":\"\"}\n\x02{}"),
		[]byte("\x01{\"proof\":\"x\"}\n\x00{\"client\":\"chat1\"}"),
		[]byte("\x00{\"client\":\"\"}"),
		[]byte("\x00[1,2]\n\x00null"),
		[]byte("\x02{\"sessionId\":\"1\"}"),
		[]byte("\x00{\"client\":\"web1\",\"nonce\":\"" + string(bytes.Repeat([]byte("n"), 300)) + "\"}\n\x01{\"proof\":1}"),
	} {
		f.Add(seed)
	}
	names := []string{wire.RequestChallenge, wire.RequestAuthenticate, wire.RequestJoin}
	g := &Gate{Key: testKey(f, secret), Policy: ixnPolicy(), OpenTimeout: 5 * time.Second}
	s := startGate(f, g, []Role{RoleMediaServer, RoleRouting}, nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c := dial(t, s)
		defer c.Close()
		for i, part := range bytes.SplitN(data, []byte("\n"), 3) {
			if len(part) == 0 {
				continue
			}
			name := names[int(part[0])%len(names)]
			var body any = json.RawMessage(part[1:])
			if !json.Valid(part[1:]) {
				body = string(part[1:])
			}
			var reply json.RawMessage
			got, err := c.Request(ctx, name, body, &reply)
			if err != nil {
				return // refused, or closed after a refusal: the attacker is out
			}
			if got.Name != wire.EventChallenge {
				t.Fatalf("message %d (%s %s) answered %s %s without the key", i, name, part[1:], got.Name, reply)
			}
		}
	})
}

package webapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
)

// The decoders of what a chat server answers the web API: its /status, a
// chat's location, a chat status (join reply or push). A peer may be a
// different version, or broken; the fuzz targets below check that whatever
// it sends is read as encoding/json reads it, within the body limit, with
// an encoding/json error when it cannot be, and that what is read encodes
// and reads back the same.

// peerBody is a chat server's reply: data, then whitespace, as from a
// server that never closes the body; the whitespace ends (the body has an
// end) only past twice the limit, so that a decoder that ignores the limit
// reads too much rather than for ever. read counts what was read.
type peerBody struct {
	r    io.Reader
	read int
}

func newPeerBody(data []byte) *peerBody {
	return &peerBody{r: io.MultiReader(bytes.NewReader(data), io.LimitReader(spaces{}, 2*maxStatusBody))}
}

func (b *peerBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read += n
	return n, err
}

// spaces reads as spaces for ever.
type spaces struct{}

func (spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// checkPeerDecode checks one decode of data: got and err from the decoder,
// want and werr from json.Unmarshal of the same bytes, and how much it read.
func checkPeerDecode[T comparable](t *testing.T, data []byte, got T, err error, read int, decode func([]byte) (T, error)) {
	t.Helper()
	if read > maxStatusBody {
		t.Fatalf("read %d bytes of a peer's body, more than the %d allowed", read, maxStatusBody)
	}
	var want T
	werr := json.Unmarshal(data, &want)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err != nil && !errors.As(err, &syntax) && !errors.As(err, &typ) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF):
		t.Fatalf("%q: error %T %v is not one of encoding/json's", data, err, err)
	case werr == nil && len(data) < maxStatusBody && (err != nil || got != want):
		t.Fatalf("%q read as %+v, %v; json.Unmarshal reads %+v", data, got, err, want)
	case err != nil:
		return
	}
	again, _ := json.Marshal(got)
	if back, err := decode(again); err != nil || back != got {
		t.Fatalf("%+v encoded as %s reads back as %+v, %v", got, again, back, err)
	}
}

// FuzzServerStatus checks decodeServerStatus, the reader of GET /status.
func FuzzServerStatus(f *testing.F) {
	for _, s := range []string{`{"name":"chat1","accepting":true,"sessions_current":3,"limit_for_sessions":100}`,
		`{"name":"chat1","disabled":true,"extra":[1,{"a":null}]}`, `{"sessions_current":-9223372036854775808}`,
		`{"sessions_current":1e3}`, `{"accepting":"yes"}`, `null`, `{"name":"\ud800"}`, `{"name":"a"} trailing`, `{`} {
		f.Add([]byte(s))
	}
	decode := func(b []byte) (serverStatus, error) { return decodeServerStatus(bytes.NewReader(b)) }
	f.Fuzz(func(t *testing.T, data []byte) {
		body := newPeerBody(data)
		st, err := decodeServerStatus(body)
		checkPeerDecode(t, data, st, err, body.read, decode)
	})
}

// FuzzLocation checks decodeLocation, the reader of GET
// /sessions/{id}/location.
func FuzzLocation(f *testing.F) {
	for _, s := range []string{`{"owner":"chat2"}`, `{"Owner":"chat2","epoch":4}`, `{"owner":null}`, `{"owner":7}`,
		`[]`, `"chat2"`, `{"owner":"a\u0000b"}`} {
		f.Add([]byte(s))
	}
	type location struct{ Owner string }
	decode := func(b []byte) (location, error) {
		owner, err := decodeLocation(bytes.NewReader(b))
		return location{owner}, err
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		body := newPeerBody(data)
		owner, err := decodeLocation(body)
		checkPeerDecode(t, data, location{owner}, err, body.read, decode)
	})
}

// FuzzChatStatus checks decodeChatStatus, the reader of the chat status a
// chat server answers a join with and pushes to the agent desktop bridge.
func FuzzChatStatus(f *testing.F) {
	for _, s := range []string{`{"sessionId":"s1","userId":"u1","secureKey":"k","alias":"chat1","chatEnded":false,"nextPosition":4,"messages":[]}`,
		`{"nextPosition":-1}`, `{"nextPosition":9223372036854775808}`, `{"chatEnded":1}`, `{"sessionId":["x"]}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := decodeChatStatus(data)
		checkPeerDecode(t, data, st, err, 0, decodeChatStatus) // no body limit: the wire bounds a message
	})
}

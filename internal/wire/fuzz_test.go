package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzDecode checks that Decode never panics, fails only with an *Error of
// the catalogue, that its fast path accepts only what the strict decoder
// accepts, and decodes it the same, and that what it accepts encodes and
// decodes back the same.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"name":"RequestJoin","ref":7,"body":{"sessionId":"s"}}`))
	f.Add([]byte(`{"name":"EventError","ref":1,"body":{"code":8210,"text":"bad secure key"}}`))
	f.Add([]byte(` { "body" : null , "ref" : 0 , "name" : "EventAck" } `))
	f.Add([]byte(`{"name":"RequestJoin","name":"RequestJoin"}`))
	f.Add([]byte(`{"name":"Request\u004aoin","ref":18446744073709551616}`))
	f.Add([]byte(`{"name":"RequestJoin","body":{"a":["}",{"b":"\""}]},"ref":3}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if fast, ok := decodeFast(data); ok {
			strict, err := decodeStrict(data)
			if err != nil || fast.Name != strict.Name || fast.Ref != strict.Ref || !bytes.Equal(fast.Body, strict.Body) {
				t.Fatalf("fast path accepted %q as %+v; strict: %+v, %v", data, fast, strict, err)
			}
		}
		m, err := Decode(data)
		if err != nil {
			e, ok := errors.AsType[*Error](err)
			if !ok || (e.Code != CodeMalformed && e.Code != CodeUnknownMessage) {
				t.Fatalf("Decode error %v is not a catalogue *Error", err)
			}
			return
		}
		out, err := encodeMessage(m)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if bytes.IndexByte(out, '\n') >= 0 {
			t.Fatalf("encoded message holds a newline: %q", out)
		}
		back, err := Decode(out)
		if err != nil || back.Name != m.Name || back.Ref != m.Ref {
			t.Fatalf("round trip of %q: %+v, %v", out, back, err)
		}
	})
}

// bindRef and bindReq have the shapes of the chat server's requests: an
// embedded reference, strings, a string type, an int, and fields bindFast
// leaves to the strict decoder (a map, a bool, a name two fields claim, a
// type with its own decoding).
type bindRef struct {
	SecureKey string `json:"secureKey"`
	SessionID string `json:"sessionId"`
	UserID    string `json:"userId"`
	Twice     string `json:"twice"`
}

type bindKind string

type bindUpper string

func (u *bindUpper) UnmarshalText(b []byte) error {
	*u = bindUpper(bytes.ToUpper(b))
	return nil
}

type bindReq struct {
	bindRef
	Text     string            `json:"text"`
	Kind     bindKind          `json:"kind"`
	Position int               `json:"position"`
	Count    int64             `json:"count,omitempty"`
	Quoted   int               `json:"quoted,string"`
	UserData map[string]string `json:"userData"`
	Flag     bool              `json:"flag"`
	Twice    string            `json:"twice"`
	Upper    bindUpper         `json:"upper"`
	NoTag    string
	hidden   string
}

// FuzzBind checks that bindFast accepts only bodies the strict decoder
// accepts, and binds them the same, and leaves its target untouched when it
// declines.
func FuzzBind(f *testing.F) {
	f.Add([]byte(`{"sessionId":"S1","userId":"U1","text":"hello","position":3}`))
	f.Add([]byte(` { "kind" : "ALL" , "count" : -12 , "NoTag" : "x" } `))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"Text":"case","text":"x"}`))
	f.Add([]byte(`{"text":"a\"b","position":1.5,"count":1e3}`))
	f.Add([]byte(`{"text":null,"flag":true,"userData":{"a":"b"}}`))
	f.Add([]byte(`{"text":"x","text":"y"}`))
	f.Add([]byte(`{"upper":"u"}`))
	f.Add([]byte(`{"quoted":"7"}`))
	f.Add([]byte(`{"twice":"t"}`))
	f.Add([]byte(`{"hidden":"h"}`))
	f.Add([]byte(`{"position":012,"count":9223372036854775807}`))
	f.Add([]byte("{\"text\":\"\xff\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast bindReq
		if !bindFast(data, &fast) {
			if !reflect.DeepEqual(fast, bindReq{}) {
				t.Fatalf("bindFast declined %q but changed its target: %+v", data, fast)
			}
			return
		}
		var strict bindReq
		if err := bindStrict(data, &strict); err != nil {
			t.Fatalf("bindFast accepted %q, which the strict decoder refuses: %v", data, err)
		}
		if !json.Valid(data) {
			t.Fatalf("bindFast accepted %q, which is not one JSON value", data)
		}
		if !reflect.DeepEqual(fast, strict) {
			t.Fatalf("%q bound as\n%+v\nstrictly as\n%+v", data, fast, strict)
		}
	})
}

package wire

import (
	"bytes"
	"errors"
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

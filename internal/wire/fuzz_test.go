package wire

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode checks that Decode never panics, fails only with an *Error of
// the catalogue, and that what it accepts encodes and decodes back the same.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"name":"RequestJoin","ref":7,"body":{"sessionId":"s"}}`))
	f.Add([]byte(`{"name":"EventError","ref":1,"body":{"code":8210,"text":"bad secure key"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
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

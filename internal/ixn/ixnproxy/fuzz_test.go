package ixnproxy

import (
	"encoding/json"
	"testing"
)

// FuzzPosition: a reporting client's position is external input. Parsing
// never panics, and what parses prints back to a position that parses to
// the same.
func FuzzPosition(f *testing.F) {
	for _, s := range []string{"", "node-a=0,node-b=12", "a=1", "=1", "a=-1", "a=x", "a=1,,b=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := parsePosition(text)
		if err != nil {
			return
		}
		again, err := parsePosition(p.text())
		if err != nil || again.text() != p.text() {
			t.Fatalf("%q prints as %q, which parses to %v %v", text, p.text(), again, err)
		}
	})
}

// FuzzWithFields: the node's event bodies get the node and position
// added; a JSON object stays a JSON object with them.
func FuzzWithFields(f *testing.F) {
	for _, s := range []string{`{}`, `{"eventId":1}`, ` { "a" : [1,2] } `, `[]`, ``, `{`, `{"node":"x"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		out := withFields(json.RawMessage(body), map[string]string{"node": "n", "position": "n=1"})
		var obj map[string]any
		if json.Valid([]byte(body)) && len(body) > 0 {
			var in map[string]any
			if json.Unmarshal([]byte(body), &in) != nil {
				return // not an object: nodes send objects only
			}
			if err := json.Unmarshal(out, &obj); err != nil || obj["node"] != "n" || obj["position"] != "n=1" {
				t.Fatalf("%q became %q: %v", body, out, err)
			}
		}
	})
}

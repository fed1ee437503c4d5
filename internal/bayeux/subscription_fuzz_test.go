package bayeux

import (
	"encoding/json"
	"slices"
	"testing"
)

// FuzzParseSubscription checks parseSubscription on the subscription field
// of any message a client may send: it accepts exactly the one channel or
// non-empty array of channels that are valid and not meta, refuses the
// rest with 400 (or 403 for a meta channel, which it names), and reads the
// channels it returns back the same once encoded as an array or, for one, as
// a string.
func FuzzParseSubscription(f *testing.F) {
	for _, s := range []string{`"/chat/a"`, `["/a","/b/**"]`, `[]`, `null`, `"/meta/connect"`, `["/a", 7]`,
		`"/a/"`, `{"x":"/a"}`, `"\u002fa"`, `["/service/x","/meta"]`, `"/a\ufffd"`, `"/a/*/b"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m struct{ Subscription json.RawMessage }
		if json.Unmarshal(append(append([]byte(`{"Subscription":`), data...), '}'), &m) != nil {
			return // not one JSON value: the message decoder refuses it first
		}
		chans, err := parseSubscription(m.Subscription)
		want, wantCode := subscriptionOracle(m.Subscription)
		switch {
		case err != nil && err.Code != wantCode:
			t.Fatalf("%s refused with %d (%v), want %d", data, err.Code, err, wantCode)
		case err != nil && err.Code == codeForbidden && (len(err.Args) != 1 || !isMeta(err.Args[0])):
			t.Fatalf("%s refused as meta, naming %q", data, err.Args)
		case err != nil:
			return
		case wantCode != 0:
			t.Fatalf("%s accepted as %q, want code %d", data, chans, wantCode)
		case !slices.Equal(chans, want):
			t.Fatalf("%s read as %q, want %q", data, chans, want)
		}
		array, _ := json.Marshal(chans)
		if again, err := parseSubscription(array); err != nil || !slices.Equal(again, chans) {
			t.Fatalf("%q encoded as %s reads back as %q, %v", chans, array, again, err)
		}
		if len(chans) == 1 {
			one, _ := json.Marshal(chans[0])
			if again, err := parseSubscription(one); err != nil || !slices.Equal(again, chans) {
				t.Fatalf("%q encoded as %s reads back as %q, %v", chans, one, again, err)
			}
		}
	})
}

// subscriptionOracle is what parseSubscription should make of raw, worked
// out another way: the channels, or the error code.
func subscriptionOracle(raw json.RawMessage) ([]string, int) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil, codeBadMessage
	}
	var chans []string
	switch v := v.(type) {
	case string:
		chans = []string{v}
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, codeBadMessage
			}
			chans = append(chans, s)
		}
	}
	if len(chans) == 0 {
		return nil, codeBadMessage
	}
	for _, ch := range chans {
		switch {
		case !validChannel(ch):
			return nil, codeBadMessage
		case isMeta(ch):
			return nil, codeForbidden
		}
	}
	return chans, 0
}

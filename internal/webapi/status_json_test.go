package webapi

import (
	"encoding/json"
	"reflect"
	"testing"
)

// plainStatuses are statuses as chat servers write them.
var plainStatuses = []string{
	sessionInfo,
	`{"sessionId":"s1","userId":"u1","secureKey":"k","alias":"chat-1","chatEnded":false,"nextPosition":1,"messages":[]}`,
	`{"sessionId":"s1","userId":"u1","alias":"chat-1","chatEnded":true,"nextPosition":4,"messages":null,` +
		`"pushNotification":{"deviceId":"d1","type":"customhttp"}}`,
	`{"sessionId":"s1","userId":"u1","alias":"chat-1","chatEnded":false,"nextPosition":4,"messages":[` +
		`{"index":1,"type":"ParticipantJoined","utcTime":1764590000000,"from":{"nickname":"Ann <a&b>","participantId":1,"type":"Client"},"userData":{"Order":"42"},"visibility":"ALL"},` +
		`{"index":2,"type":"Message","utcTime":1764590000001,"text":"caf\u00e9 \"quoted\" \u2028","messageType":"text","visibility":"INT"},` +
		`{"index":3,"type":"ParticipantLeft","utcTime":1764590000002,"from":{"nickname":"Bob","participantId":2,"type":"Agent"},"visibility":"ALL",` +
		`"eventAttributes":{"GCTI_SYSTEM":{"quit-reason-code":"3"}}}]}`,
}

// TestDecodeStatusPlain checks that the fast path reads what chat servers
// write, and reads it as encoding/json does.
func TestDecodeStatusPlain(t *testing.T) {
	for _, in := range plainStatuses {
		got, ok := decodeStatus([]byte(in))
		if !ok {
			t.Errorf("decodeStatus(%s) left it to encoding/json", in)
			continue
		}
		var want plainStatus
		if err := json.Unmarshal([]byte(in), &want); err != nil || !reflect.DeepEqual(got, status(want)) {
			t.Errorf("decodeStatus(%s) = %+v, encoding/json: %+v %v", in, got, want, err)
		}
	}
}

// FuzzDecodeStatus checks that whatever the fast path reads, valid JSON or
// not, it reads as encoding/json does, and that a status decodes, either
// way in, as encoding/json decodes it.
func FuzzDecodeStatus(f *testing.F) {
	for _, in := range plainStatuses {
		f.Add([]byte(in))
	}
	f.Add([]byte(`{"sessionId":"a","sessionId":"b","SessionID":"c","messages":[{"index":1.5}]}`))
	f.Add([]byte(`{"sessionId":"a\u0041","nextPosition":01,"chatEnded":truex}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var want plainStatus
		wantErr := json.Unmarshal(data, &want)
		if got, ok := decodeStatus(data); ok && (wantErr != nil || !reflect.DeepEqual(got, status(want))) {
			t.Fatalf("decodeStatus = %+v; encoding/json: %+v %v", got, want, wantErr)
		}
		st, err := parseStatus(data)
		var viaJSON status
		errJSON := json.Unmarshal(data, &viaJSON)
		for _, got := range []struct {
			st  status
			err error
		}{{st, err}, {viaJSON, errJSON}} {
			if (got.err != nil) != (wantErr != nil) || got.err == nil && !reflect.DeepEqual(got.st, status(want)) {
				t.Fatalf("status = %+v %v; encoding/json: %+v %v", got.st, got.err, want, wantErr)
			}
		}
	})
}

// BenchmarkDecodeStatus decodes an EventSessionInfo's body: as a push and a
// wire reply are (parseStatus; the wire package calls UnmarshalJSON, which
// reads the same), through json.Unmarshal into a status (as a status nested
// in another reply is read), and by encoding/json alone, as all were.
func BenchmarkDecodeStatus(b *testing.B) {
	body := []byte(sessionInfo)
	for _, d := range []struct {
		name   string
		decode func() error
	}{
		{"parse", func() error { _, err := parseStatus(body); return err }},
		{"unmarshal", func() error { var st status; return json.Unmarshal(body, &st) }},
		{"encoding-json", func() error { var st plainStatus; return json.Unmarshal(body, &st) }},
	} {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := d.decode(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package bayeux

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		in       string
		wantErr  bool
		channels []string // the channel of each message
		errs     []string // the error of each message, "" when well-formed
	}{
		{in: `{"channel":"/meta/handshake","id":"1"}`, channels: []string{"/meta/handshake"}, errs: []string{""}},
		{in: ` [{"channel":"/a","id":2},{"channel":"/b","data":{}}] `, channels: []string{"/a", "/b"}, errs: []string{"", ""}},
		{in: `[]`, channels: []string{}, errs: []string{}},
		{in: `[{"channel":"/a"}, 7]`, channels: []string{"/a", ""}, errs: []string{"", "400::message is not a JSON object"}},
		{in: `{"channel":"/a","advice":[]}`, channels: []string{"/a"}, errs: []string{"400::invalid message field"}},
		{in: `{"channel":"/a","id":true}`, channels: []string{"/a"}, errs: []string{"400::invalid id"}},
		{in: `{"channel":"/a/**/b"}`, channels: []string{"/a/**/b"}, errs: []string{"400::invalid channel"}},
		{in: `"x"`, channels: []string{""}, errs: []string{"400::message is not a JSON object"}},
		{in: `{`, wantErr: true},
		{in: ``, wantErr: true},
		{in: `[{"channel":"/a"}`, wantErr: true},
	}
	for _, tt := range tests {
		msgs, err := decode([]byte(tt.in), 1024)
		if (err != nil) != tt.wantErr {
			t.Errorf("decode(%s) error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err != nil {
			if !errors.Is(err, errNotJSON) {
				t.Errorf("decode(%s) error %v does not wrap errNotJSON", tt.in, err)
			}
			continue
		}
		var chans, errs []string
		for _, m := range msgs {
			chans = append(chans, m.Channel)
			e := ""
			if m.err != nil {
				e = m.err.Error()
			}
			errs = append(errs, e)
		}
		if !slices.Equal(chans, tt.channels) || !slices.Equal(errs, tt.errs) {
			t.Errorf("decode(%s) = %q %q, want %q %q", tt.in, chans, errs, tt.channels, tt.errs)
		}
	}
}

func TestDecodeTooLargeKeepsID(t *testing.T) {
	msgs, err := decode([]byte(`{"id":"5","channel":"/a","data":"0123456789"}`), 20)
	if err != nil || len(msgs) != 1 {
		t.Fatal(msgs, err)
	}
	m := msgs[0]
	if m.err == nil || m.err.Code != codeTooLarge || string(m.ID) != `"5"` || m.Channel != "/a" {
		t.Fatalf("got %+v", m)
	}
}

func TestValidChannel(t *testing.T) {
	tests := []struct {
		ch   string
		want bool
	}{
		{"/a", true}, {"/a/b", true}, {"/a/*", true}, {"/a/**", true}, {"/**", true},
		{"/service/chatV2/customer-support", true},
		{"", false}, {"/", false}, {"a", false}, {"/a/", false}, {"//a", false},
		{"/a/*/b", false}, {"/a/b*", false}, {"/a/***", false},
	}
	for _, tt := range tests {
		if got := validChannel(tt.ch); got != tt.want {
			t.Errorf("validChannel(%q) = %v", tt.ch, got)
		}
	}
}

func TestPatterns(t *testing.T) {
	tests := []struct {
		ch   string
		want []string
	}{
		{"/a", []string{"/a", "/*", "/**"}},
		{"/a/b", []string{"/a/b", "/a/*", "/a/**", "/**"}},
		{"/a/b/c", []string{"/a/b/c", "/a/b/*", "/a/b/**", "/a/**", "/**"}},
	}
	for _, tt := range tests {
		if got := patterns(tt.ch); !slices.Equal(got, tt.want) {
			t.Errorf("patterns(%q) = %q, want %q", tt.ch, got, tt.want)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&Error{Code: 402, Message: "Unknown client"}, "402::Unknown client"},
		{&Error{Code: 403, Args: []string{"/meta/x", "y"}, Message: "denied"}, "403:/meta/x,y:denied"},
		{errors.New("secret"), "500::internal error"},
		{wrapErr(&Error{Code: 409, Message: "busy"}), "409::busy"},
	}
	for _, tt := range tests {
		if got := asError(tt.err).Error(); got != tt.want {
			t.Errorf("asError(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func wrapErr(err error) error { return errors.Join(errors.New("context"), err) }

// FuzzDecode checks that decode never panics, that every message it returns
// is either rejected with a catalogue code or has a valid channel, that the
// error reply to any message encodes to valid JSON, and that decoding a
// body whole gives what decoding it message by message gives.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["websocket"],"id":"1"}]`))
	f.Add([]byte(`{"channel":"/meta/connect","clientId":"ab","connectionType":"long-polling","advice":{"timeout":0},"id":"2"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if whole, ok := decodeWhole(bytes.TrimSpace(data)); ok {
			each, err := decodeEach(bytes.TrimSpace(data), math.MaxInt64)
			if err != nil || !reflect.DeepEqual(whole, each) {
				t.Fatalf("decoded whole: %+v; message by message: %+v, %v", whole, each, err)
			}
		}
		msgs, err := decode(data, 256)
		if err != nil {
			if !errors.Is(err, errNotJSON) {
				t.Fatalf("decode error %v does not wrap errNotJSON", err)
			}
			return
		}
		for _, m := range msgs {
			switch {
			case m.err != nil && m.err.Code != codeBadMessage && m.err.Code != codeTooLarge:
				t.Fatalf("rejected with code %d", m.err.Code)
			case m.err == nil && !validChannel(m.Channel):
				t.Fatalf("accepted invalid channel %q", m.Channel)
			}
			out := encode(errorReply(m, errorf(codeBadMessage, "x")))
			if !json.Valid(out) || string(out) == string(internalReply) {
				t.Fatalf("error reply %s", out)
			}
		}
	})
}

// TestEncodeDelivery checks that a delivery built by hand is what
// json.Marshal makes of it.
func TestEncodeDelivery(t *testing.T) {
	data, err := json.Marshal(map[string]any{"text": "<b>&\u2028\"é\"</b>", "n": 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []string{"/service/chatV2/customer-support", "/a/<b>&c", "/a/\"q\\", "/a/é\u2028", "/a/\x01", "/a/\xff"} {
		want := encode(delivery{Channel: ch, Data: data})
		if got := encodeDelivery(ch, data); !bytes.Equal(got, want) {
			t.Errorf("encodeDelivery(%q) = %s, want %s", ch, got, want)
		}
	}
}

// TestDeliverChannels checks that a delivery goes only on a channel a
// client may receive, already encoded or not, and as it was encoded.
func TestDeliverChannels(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	c, _ := s.register("127.0.0.1")
	for _, ch := range []string{"/meta/connect", "/service/*", "service", "/a//b"} {
		if c.Deliver(ch, 1) == nil || c.DeliverJSON(ch, []byte("1")) == nil {
			t.Errorf("delivered on %q", ch)
		}
	}
	if err := c.DeliverJSON("/service/x", []byte(`{"b":1,"a":"\u003c"}`)); err != nil {
		t.Fatal(err)
	}
	if got := string(c.queue[0]); got != `{"channel":"/service/x","data":{"b":1,"a":"\u003c"}}` {
		t.Errorf("queued %s", got)
	}
}

// FuzzReplyEncode checks a reply written by hand against json.Marshal,
// with ids and subscriptions as clients write them (spaced, escaped, raw
// HTML and line separators in strings).
func FuzzReplyEncode(f *testing.F) {
	f.Add("/meta/connect", "ab12", "402::unknown client", `"7"`, "retry", int64(30000), true)
	f.Add("/a/<b>", "\u2028", "", `[ "/a" , "/b<&>" ]`, "", int64(0), false)
	f.Add("/x", "", "e", `12e3`, "none", int64(-1), true)
	f.Fuzz(func(t *testing.T, channel, clientID, errText, raw, reconnect string, n int64, ok bool) {
		if !json.Valid([]byte(raw)) {
			return
		}
		r := &reply{Channel: channel, ID: json.RawMessage(raw), ClientID: clientID, Successful: ok, Error: errText,
			Subscription: json.RawMessage(raw), Version: reconnect, SupportedConnectionTypes: []string{channel, errText},
			Advice: &advice{Reconnect: reconnect, Interval: n, Timeout: n, MaxInterval: -n}}
		for _, r := range []*reply{r, {Channel: channel}, {Channel: channel, Advice: &advice{}}} {
			if got, want := r.encode(), encode(r); !bytes.Equal(got, want) {
				t.Fatalf("encode:\n%s\njson.Marshal:\n%s", got, want)
			}
		}
	})
}

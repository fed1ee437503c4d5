package webapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/wire"
)

func TestDecodeForm(t *testing.T) {
	tests := []struct {
		body     string
		values   map[string]string
		userData map[string]string
		err      bool
	}{
		{"nickname=Ann&subject=Hi", map[string]string{"nickname": "Ann", "subject": "Hi"}, map[string]string{}, false},
		{"userData[Order]=42&userData[Time+Zone]=-480", map[string]string{}, map[string]string{"Order": "42", "Time Zone": "-480"}, false},
		{"nickname=first&nickname=second", map[string]string{"nickname": "first"}, map[string]string{}, false},
		{"userData=plain", map[string]string{"userData": "plain"}, map[string]string{}, false},
		{"userData[]=x", nil, nil, true},
		{"userData[a=x", nil, nil, true},
		{"userData[a]b]=x", nil, nil, true},
		{"userData[" + strings.Repeat("k", maxKeyLen+1) + "]=x", nil, nil, true},
	}
	for _, tt := range tests {
		vals, err := url.ParseQuery(tt.body)
		if err != nil {
			t.Fatal(err)
		}
		f, err := decodeForm(vals)
		if tt.err {
			if e, ok := errors.AsType[*wire.Error](err); !ok || e.Code != wire.CodeBadRequest {
				t.Errorf("%q: error %v, want CodeBadRequest", tt.body, err)
			}
			continue
		}
		if err != nil || !equal(f.values, tt.values) || !equal(f.userData, tt.userData) {
			t.Errorf("%q = %v %v, %v", tt.body, f.values, f.userData, err)
		}
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestPosition(t *testing.T) {
	for _, tt := range []struct {
		v    string
		want int
		err  bool
	}{{"", 0, false}, {"0", 0, false}, {"17", 17, false}, {"-1", 0, true}, {"1.5", 0, true}, {"2147483648", 0, true}} {
		got, err := form{values: map[string]string{"transcriptPosition": tt.v}}.position("transcriptPosition")
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("%q = %d, %v", tt.v, got, err)
		}
	}
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   wire.Code
		ended  bool
	}{
		{wire.Errorf(wire.CodeBadSecureKey, ""), 2, wire.CodeBadSecureKey, true},
		{wire.Errorf(wire.CodeNoSuchSession, ""), 2, wire.CodeNoSuchSession, true},
		{wire.Errorf(wire.CodeNoSuchUser, ""), 2, wire.CodeNoSuchUser, true},
		{wire.Errorf(wire.CodeLoggedOut, ""), 2, wire.CodeLoggedOut, true},
		{wire.Errorf(wire.CodeSessionClosed, ""), 2, wire.CodeSessionClosed, true},
		{wire.Errorf(wire.CodeBadRequest, ""), 2, wire.CodeBadRequest, false},
		{wire.Errorf(wire.CodeNotAllowed, ""), 2, wire.CodeNotAllowed, false},
		{wire.Errorf(wire.CodeStoreFailed, ""), 1, wire.CodeStoreFailed, false},
		{wire.Errorf(wire.CodeShuttingDown, ""), 1, wire.CodeShuttingDown, false},
		{wire.Errorf(wire.CodeStaleOwner, ""), 1, wire.CodeStaleOwner, false},
		{ErrNoChatServer, 1, wire.CodeUnavailable, false},
		{errUnreachable, 1, wire.CodeUnavailable, false},
		{wire.ErrNotConnected, 1, wire.CodeUnavailable, false},
		{errUnknownAlias, 2, wire.CodeBadRequest, false},
		{errors.New("disk on fire"), 1, wire.CodeInternal, false},
	}
	for _, tt := range tests {
		env := errorEnvelope(tt.err)
		if env.StatusCode != tt.status || env.Errors[0].Code != int(tt.code) || env.ChatEnded != tt.ended || env.Messages == nil {
			t.Errorf("%v: %+v", tt.err, env)
		}
		if strings.Contains(env.Errors[0].Advice, "fire") {
			t.Errorf("internal error text leaked: %q", env.Errors[0].Advice)
		}
	}
}

// FuzzForm feeds arbitrary bodies to the form parser: it never panics, and
// what it accepts is well-formed.
func FuzzForm(f *testing.F) {
	for _, s := range []string{"nickname=Ann&userData[Order]=42", "userData[a][b]=1", "userData[=", "a=%zz", "userData[]=&x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		vals, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		fm, err := decodeForm(vals)
		checkForm(t, fm, err)
		if err != nil {
			return
		}
		for k := range fm.userData {
			if strings.ContainsAny(k, "[]") {
				t.Fatalf("bad userData key %q accepted", k)
			}
			if _, ok := vals["userData["+k+"]"]; !ok {
				t.Fatalf("userData key %q not in the input", k)
			}
		}
		for k := range fm.values {
			if strings.HasPrefix(k, "userData[") {
				t.Fatalf("field %q kept as a plain field", k)
			}
		}
	})
}

// checkForm fails unless err is a wire error, or fm is what every decoder
// promises: userData within its limits.
func checkForm(t *testing.T, fm form, err error) {
	t.Helper()
	if err != nil {
		if _, ok := errors.AsType[*wire.Error](err); !ok {
			t.Fatalf("error %v is not a *wire.Error", err)
		}
		return
	}
	if len(fm.userData) > maxUserData {
		t.Fatalf("%d userData fields accepted", len(fm.userData))
	}
	for k := range fm.userData {
		if k == "" || len(k) > maxKeyLen {
			t.Fatalf("bad userData key %q accepted", k)
		}
	}
}

// multipartBoundary is the boundary of FuzzMultipartForm's bodies.
const multipartBoundary = "X-PARLEY-FUZZ"

// FuzzMultipartForm feeds arbitrary multipart bodies, the upload and
// chat-ntf path, to readForm: it never panics, refuses what is over the
// limit as too large, and what it accepts is well-formed.
func FuzzMultipartForm(f *testing.F) {
	part := func(name, v string) string {
		return "--" + multipartBoundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + v + "\r\n"
	}
	for _, s := range []string{
		part("userId", "u1") + part("userData[file-description]", "receipt") +
			"--" + multipartBoundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello\r\n--" + multipartBoundary + "--\r\n",
		part("userData[a][b]", "1") + "--" + multipartBoundary + "--\r\n",
		part("operation", "fileGetsLimits"),
		"--" + multipartBoundary + "\r\nContent-Disposition: form-data\r\n\r\nx\r\n--" + multipartBoundary + "--\r\n",
	} {
		f.Add(s)
	}
	const limit = 4 << 10
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, ntfPath, strings.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary="+multipartBoundary)
		fm, file, err := readForm(httptest.NewRecorder(), r, limit)
		if file != nil { // an upload streams its file on: the rest of the body must keep the limit
			if _, cerr := io.Copy(io.Discard, file); cerr != nil {
				err = formError(cerr, limit)
			} else if _, cerr := io.Copy(io.Discard, r.Body); cerr != nil {
				err = formError(cerr, limit)
			}
		}
		if len(body) > limit && err == nil {
			t.Fatalf("a body of %d bytes accepted with a limit of %d", len(body), limit)
		}
		checkForm(t, fm, err)
	})
}

// FuzzDecodeData feeds arbitrary publish data to the CometD decoder
// (decodeData and decodeUserData): it never panics, accepts only a JSON
// object, and what it accepts is well-formed.
func FuzzDecodeData(f *testing.F) {
	for _, s := range []string{
		`{"operation":"requestChat","nickname":"Ann","userData":{"Order":"42","Tier":2,"VIP":true}}`,
		`{"operation":"requestNotifications","transcriptPosition":3,"secureKey":"k"}`,
		`{"userData":{"":"x"}}`, `{"userData":{"a":{"b":1}}}`, `{"userData":[1]}`, `[]`, `null`, `"x"`, `{"a":1e999}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fm, err := decodeData(data)
		if err == nil && !json.Valid(data) {
			t.Fatalf("invalid JSON %q accepted", data)
		}
		checkForm(t, fm, err)
		values, userData, ok := genericData(data)
		if ok != (err == nil) || ok && (!maps.Equal(fm.values, values) || !maps.Equal(fm.userData, userData)) {
			t.Fatalf("decodeData = %v %v %v; through generic values: %v %v ok %v", fm.values, fm.userData, err, values, userData, ok)
		}
	})
}

// genericData is what decodeData should make of data, read the slow, plain
// way: each field as a generic value, numbers as written.
func genericData(data []byte) (values, userData map[string]string, ok bool) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(data, &fields) != nil || fields == nil {
		return nil, nil, false
	}
	text := func(v json.RawMessage) (string, bool) {
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		var x any
		if dec.Decode(&x) != nil {
			return "", false
		}
		switch x := x.(type) {
		case string:
			return x, true
		case json.Number:
			return x.String(), true
		case bool:
			return strconv.FormatBool(x), true
		}
		return "", false
	}
	values, userData = map[string]string{}, map[string]string{}
	for k, v := range fields {
		if k != "userData" {
			if s, ok := text(v); ok {
				values[k] = s
			}
			continue
		}
		var ud map[string]json.RawMessage
		if json.Unmarshal(v, &ud) != nil || len(ud) > maxUserData {
			return nil, nil, false
		}
		for uk, uv := range ud {
			s, ok := text(uv)
			if !ok || uk == "" || len(uk) > maxKeyLen {
				return nil, nil, false
			}
			userData[uk] = s
		}
	}
	return values, userData, true
}

// TestReadFormAsParseForm checks that an url-encoded body reads as it did
// through r.ParseForm, errors included.
func TestReadFormAsParseForm(t *testing.T) {
	tests := []struct{ query, body string }{
		{"", "nickname=Ann&userData[Order]=42&nickname=Bob"},
		{"", "a=%zz&b=1"},
		{"", "a=1;b=2"},
		{"x=%zz", "a=1"},
		{"x=1", "a=1"},
		{"", strings.Repeat("a", 200)},
	}
	for _, tt := range tests {
		req := func() (*httptest.ResponseRecorder, *http.Request) {
			r := httptest.NewRequest(http.MethodPost, "/x?"+tt.query, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return httptest.NewRecorder(), r
		}
		w, r := req()
		got, _, gotErr := readForm(w, r, 100)
		w, r = req()
		r.Body = http.MaxBytesReader(w, r.Body, 100)
		want, wantErr := form{}, r.ParseForm()
		if wantErr == nil {
			want, wantErr = decodeForm(r.PostForm)
		} else {
			wantErr = formError(wantErr, 100)
		}
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !maps.Equal(got.values, want.values) || !maps.Equal(got.userData, want.userData) {
			t.Errorf("?%s %q: read %v %v, through ParseForm %v %v", tt.query, tt.body, got, gotErr, want, wantErr)
		}
	}
}

package wire

import (
	"errors"
	"fmt"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		in   string
		want Message
		code Code // 0: no error
	}{
		{`{"name":"RequestJoin","ref":7,"body":{"a":1}}`, Message{Name: RequestJoin, Ref: 7, Body: []byte(`{"a":1}`)}, 0},
		{` {"body":null,"name":"EventPing"} `, Message{Name: EventPing}, 0},
		{`{"name":"RequestJoin","ref":7,"body":{"a":1}}x`, Message{Name: RequestJoin, Ref: 7}, CodeMalformed},
		{`{"name":"RequestJoin","ref":7}{}`, Message{Name: RequestJoin, Ref: 7}, CodeMalformed},
		{``, Message{}, CodeMalformed},
		{`null`, Message{}, CodeMalformed},
		{`"x"`, Message{}, CodeMalformed},
		{`{"ref":3}`, Message{Ref: 3}, CodeMalformed},
		{`{"name":"","ref":3}`, Message{Ref: 3}, CodeMalformed},
		{`{"name":7}`, Message{}, CodeMalformed},
		{`{"ref":4,"name":"RequestJoin","ref":5}`, Message{Ref: 4, Name: RequestJoin}, CodeMalformed},
		{`{"ref":-1,"name":"RequestJoin"}`, Message{}, CodeMalformed},
		{`{"ref":1.5,"name":"RequestJoin"}`, Message{}, CodeMalformed},
		{`{"ref":8,"name":"RequestJoin","extra":1}`, Message{Ref: 8, Name: RequestJoin}, CodeMalformed},
		{`{"ref":9,"name":"RequestJoin","body":"x"}`, Message{Ref: 9, Name: RequestJoin}, CodeMalformed},
		{`{"ref":9,"name":"RequestJoin","body":[]}`, Message{Ref: 9, Name: RequestJoin}, CodeMalformed},
		{`{"ref":10,"name":"RequestJoin","body":{"a":`, Message{Ref: 10, Name: RequestJoin}, CodeMalformed},
		{`{"name":"NAME"}`, Message{Name: "NAME"}, CodeUnknownMessage},
		{`{"ref":11,"name":"requestjoin"}`, Message{Ref: 11, Name: "requestjoin"}, CodeUnknownMessage},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			m, err := Decode([]byte(tt.in))
			if tt.code == 0 && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tt.code != 0 {
				if e, ok := errors.AsType[*Error](err); !ok || e.Code != tt.code {
					t.Fatalf("err = %v, want code %d", err, tt.code)
				}
			}
			bodyOK := tt.code != 0 || string(m.Body) == string(tt.want.Body)
			if m.Name != tt.want.Name || m.Ref != tt.want.Ref || !bodyOK {
				t.Fatalf("got %+v, want %+v", m, tt.want)
			}
		})
	}
}

func TestBind(t *testing.T) {
	var b joinBody
	if err := (Message{Name: RequestJoin}).Bind(&b); err != nil || b != (joinBody{}) {
		t.Fatalf("empty body: %v %+v", err, b)
	}
	tests := []struct{ body, text string }{
		{`{"sessionId":1}`, `invalid field "sessionId": want string`},
		{`{"sessionId":"a","who":1}`, `unknown field "who"`},
		{`{"n":"x"}`, `invalid field "n": want int`},
	}
	for _, tt := range tests {
		err := Message{Name: RequestJoin, Body: []byte(tt.body)}.Bind(&b)
		if e, ok := errors.AsType[*Error](err); !ok || e.Code != CodeBadRequest || e.Text != tt.text {
			t.Errorf("Bind(%s) = %v, want 102 %s", tt.body, err, tt.text)
		}
	}
}

func TestAsError(t *testing.T) {
	wire := Errorf(CodeStaleOwner, "owned by %s", "chat-2")
	if got := AsError(fmt.Errorf("save: %w", wire)); got != wire {
		t.Fatalf("AsError(wrapped) = %v", got)
	}
	got := AsError(errors.New("pq: password authentication failed for user parley"))
	if got.Code != CodeInternal || got.Text != "internal error" {
		t.Fatalf("AsError(internal) = %+v: internals must not leak", got)
	}
	if AsError(nil) != nil {
		t.Fatal("AsError(nil) != nil")
	}
	if s := wire.Error(); s != "wire: 8211 owned by chat-2" {
		t.Fatalf("Error() = %q", s)
	}
}

func TestCodeTexts(t *testing.T) {
	for code, text := range codeTexts {
		if text == "" || code.String() != text {
			t.Errorf("code %d has text %q", code, code.String())
		}
	}
	if CodeBadSecureKey != 8210 || CodeLoggedOut != 8209 || CodeNoSuchUser != 8201 {
		t.Fatal("Genesys codes changed")
	}
	if got := Code(9999).Text(); got != "error 9999" {
		t.Fatalf("unknown code text %q", got)
	}
}

func TestCatalogue(t *testing.T) {
	ids := map[int]string{}
	for name, id := range catalogue {
		if other, dup := ids[id]; dup {
			t.Errorf("id %d used by %s and %s", id, name, other)
		}
		ids[id] = name
	}
	for name, want := range map[string]int{
		RequestSubmit: 101, EventAck: 125, EventError: 126, EventInvite: 127,
		RequestAccept: 128, EventAgentConnectionClosed: 195, RequestLogin: 300,
	} {
		if id, ok := ID(name); !ok || id != want {
			t.Errorf("ID(%s) = %d, %v; want %d", name, id, ok, want)
		}
	}
	if Known("RequestNope") || !Known(RequestReleaseParty) {
		t.Fatal("Known is wrong")
	}
	if isReply(RequestJoin) || !isReply(EventStatus) {
		t.Fatal("isReply is wrong")
	}
}

func TestEncodeRefusesNonObjectBody(t *testing.T) {
	if _, err := encode(EventAck, 1, []int{1}); err == nil {
		t.Fatal("array body accepted")
	}
	b, err := encode(EventAck, 1, map[string]string{"t": "a\nb"})
	if err != nil || string(b) != `{"name":"EventAck","ref":1,"body":{"t":"a\nb"}}` {
		t.Fatalf("encode = %s, %v", b, err)
	}
}

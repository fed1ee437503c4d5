package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

var _ slog.LogValuer = Key{}

func TestNewKey(t *testing.T) {
	tests := []struct {
		name    string
		secret  []byte
		wantErr error
	}{
		{"nil", nil, ErrShortSecret},
		{"empty", []byte{}, ErrShortSecret},
		{"one byte short", bytes.Repeat([]byte{'x'}, MinSecretSize-1), ErrShortSecret},
		{"shortest", bytes.Repeat([]byte{'x'}, MinSecretSize), nil},
		{"long", bytes.Repeat([]byte{'x'}, 256), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := NewKey(tt.secret)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("NewKey = %v, want %v", err, tt.wantErr)
			}
			if k.Zero() != (tt.wantErr != nil) {
				t.Fatalf("Zero() = %v with error %v", k.Zero(), err)
			}
		})
	}
}

func TestKeyCopiesSecret(t *testing.T) {
	b := []byte(secret)
	k, err := NewKey(b)
	if err != nil {
		t.Fatal(err)
	}
	before := k.Encode()
	b[0] ^= 0xff
	if k.Encode() != before {
		t.Fatal("changing the secret's slice changed the key")
	}
}

func TestParseKey(t *testing.T) {
	k := testKey(t, secret)
	got, err := ParseKey(k.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.Encode() != k.Encode() || got.AdminToken() != k.AdminToken() {
		t.Fatal("ParseKey(Encode()) is another key")
	}
	for _, s := range []string{"", "!!!", base64.RawURLEncoding.EncodeToString([]byte("short")), k.Encode() + "="} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) succeeded", s)
		}
	}
}

func TestDerivedKeysDiffer(t *testing.T) {
	k := testKey(t, secret)
	other := testKey(t, otherSecret)
	seen := map[string]string{}
	for name, v := range map[string]string{
		"key":                 k.Encode(),
		"client a":            k.ClientKey("a").Encode(),
		"client b":            k.ClientKey("b").Encode(),
		"other's client a":    other.ClientKey("a").Encode(),
		"admin token":         k.AdminToken(),
		"other's admin token": other.AdminToken(),
	} {
		if prev, dup := seen[v]; dup {
			t.Errorf("%s equals %s", name, prev)
		}
		seen[v] = name
	}
	if k.ClientKey("a").Encode() != testKey(t, secret).ClientKey("a").Encode() {
		t.Error("ClientKey is not deterministic")
	}
}

// secretForms returns the ways a secret may show in a text by mistake.
func secretForms(k Key, secret []byte) []string {
	dec := strings.Trim(fmt.Sprint(secret), "[]")
	return []string{
		string(secret),
		k.Encode(),
		base64.StdEncoding.EncodeToString(secret),
		hex.EncodeToString(secret),
		dec[:min(len(dec), 24)],
		fmt.Sprintf("%#v", secret)[8:40], // []byte{0x63, 0x6f, ...
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	k := testKey(t, secret)
	forms := secretForms(k, []byte(secret))
	type holder struct {
		Name string
		Key  Key
	}
	texts := map[string]string{
		"Sprint":           fmt.Sprint(k),
		"%v":               fmt.Sprintf("%v", k),
		"%+v":              fmt.Sprintf("%+v", k),
		"%#v":              fmt.Sprintf("%#v", k),
		"%s":               fmt.Sprintf("%s", k),
		"%x":               fmt.Sprintf("%x", k),
		"%d":               fmt.Sprintf("%d", k),
		"%q":               fmt.Sprintf("%q", k),
		"pointer %+v":      fmt.Sprintf("%+v", &k),
		"in a struct %+v":  fmt.Sprintf("%+v", holder{"chat1", k}),
		"in a struct %#v":  fmt.Sprintf("%#v", holder{"chat1", k}),
		"in a Gate %+v":    fmt.Sprintf("%+v", Gate{Key: k}),
		"in an error":      fmt.Errorf("load %v: %w", k, errNoKey).Error(),
		"client key %+v":   fmt.Sprintf("%+v", k.ClientKey("bot")),
		"Credentials %+v":  fmt.Sprintf("%+v", Credentials{Name: "chat1", Key: k}),
		"Credentials %#v":  fmt.Sprintf("%#v", Credentials{Name: "chat1", Key: k}),
		"json of a holder": mustJSON(t, holder{"chat1", k}),
	}
	for _, debug := range []bool{false, true} {
		var jsonOut, textOut bytes.Buffer
		opts := &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: debug}
		for _, h := range []slog.Handler{slog.NewJSONHandler(&jsonOut, opts), slog.NewTextHandler(&textOut, opts)} {
			log := slog.New(h)
			log.Debug("start", "key", k, "ptr", &k)
			log.Info("start", slog.Any("key", k), slog.Group("trust", "key", k))
			log.Info("start", "holder", holder{"chat1", k}, "creds", Credentials{Name: "chat1", Key: k})
		}
		texts[fmt.Sprintf("slog json (source %v)", debug)] = jsonOut.String()
		texts[fmt.Sprintf("slog text (source %v)", debug)] = textOut.String()
		if !strings.Contains(jsonOut.String(), `"key":"redacted"`) {
			t.Errorf("slog JSON shows a key as something other than redacted:\n%s", jsonOut.String())
		}
	}
	for name, text := range texts {
		for _, f := range forms {
			if strings.Contains(text, f) {
				t.Errorf("%s shows the secret as %q: %s", name, f, text)
			}
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNewNonce(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		n := NewNonce()
		b, err := base64.RawURLEncoding.DecodeString(n)
		if err != nil || len(b) != NonceSize {
			t.Fatalf("nonce %q: %d bytes, %v", n, len(b), err)
		}
		if seen[n] {
			t.Fatalf("nonce %q drawn twice", n)
		}
		seen[n] = true
	}
}

package cli

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/ixn"
)

func runHashPassword(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, command: selfCommand}
	code = c.main(t.Context(), append([]string{"hash-password"}, args...))
	return code, out.String(), errOut.String()
}

func TestHashPassword(t *testing.T) {
	code, out, errOut := runHashPassword(t, "alice\n", "--iterations", "1000")
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	h := strings.TrimSuffix(out, "\n")
	parts := strings.Split(h, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" || parts[1] != "1000" {
		t.Fatalf("hash %q", h)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	// The line's end is not part of the password.
	if want := ixn.HashPassword("alice", string(salt), 1000); h != want {
		t.Errorf("hash %q, want %q", h, want)
	}
}

func TestHashPasswordRefuses(t *testing.T) {
	for _, tt := range []struct {
		stdin string
		args  []string
		code  int
	}{
		{"", nil, exitFailure},
		{"\n", nil, exitFailure},
		{"alice\n", []string{"--iterations", "999"}, exitUsage},
		{"alice\n", []string{"alice"}, exitUsage},
	} {
		if code, out, _ := runHashPassword(t, tt.stdin, tt.args...); code != tt.code || out != "" {
			t.Errorf("stdin %q, args %q: exit %d, stdout %q, want exit %d", tt.stdin, tt.args, code, out, tt.code)
		}
	}
}

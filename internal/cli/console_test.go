package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestPrefixWriterCutsLines(t *testing.T) {
	var buf bytes.Buffer
	con := newConsole(&buf, []string{"chat-1", "ixn"})
	w := con.writer("ixn")
	for _, s := range []string{"one\ntw", "o\r\n", "", "three\nfour"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	con.say("a %s", "note")
	w.flush()
	want := "ixn    | one\nixn    | two\nixn    | three\nparley | a note\nixn    | four\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestPrefixWriterBoundsLongLines(t *testing.T) {
	var buf bytes.Buffer
	w := newConsole(&buf, nil).writer("x")
	w.Write(bytes.Repeat([]byte("a"), maxLine+10))
	w.Write([]byte("b\n"))
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 || len(lines[0]) != len("parley | ")+maxLine+10 || lines[1] != "x      | b" {
		t.Errorf("got %d lines: %.40q ... %.40q", len(lines), lines[0], lines[len(lines)-1])
	}
}

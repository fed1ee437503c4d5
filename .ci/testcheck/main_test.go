package main

import (
	"strings"
	"testing"
)

// TestReport checks the exit code and the words of the report for runs
// that pass, skip, fail, fail to build, panic, or say nothing.
func TestReport(t *testing.T) {
	const (
		run  = `{"Action":"run","Package":"p","Test":"TestA"}`
		out  = `{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:9: why\n"}`
		pass = `{"Action":"pass","Package":"p"}`
		fail = `{"Action":"fail","Package":"p"}`
	)
	for _, tc := range []struct {
		name   string
		events []string
		code   int
		want   []string // in the output
		not    []string // not in the output
	}{
		{"pass", []string{run, out, `{"Action":"pass","Package":"p","Test":"TestA"}`, pass}, 0,
			[]string{"1 packages, no test failed or skipped"}, []string{"why"}},
		{"no test files", []string{`{"Action":"skip","Package":"q"}`, run, `{"Action":"pass","Package":"p","Test":"TestA"}`, pass}, 0,
			nil, nil},
		{"skip", []string{run, out, `{"Action":"skip","Package":"p","Test":"TestA"}`, pass}, 1,
			[]string{"1 tests skipped", "SKIP p TestA", "why"}, nil},
		{"skipped subtest", []string{run, `{"Action":"skip","Package":"p","Test":"TestA/pg"}`,
			`{"Action":"pass","Package":"p","Test":"TestA"}`, pass}, 1, []string{"SKIP p TestA/pg"}, nil},
		{"fail", []string{run, out, `{"Action":"fail","Package":"p","Test":"TestA"}`, fail}, 1,
			[]string{"why", "FAIL p TestA", "2 failures"}, nil},
		{"panic", []string{run, out, fail}, 1, []string{"why", "FAIL p \n"}, nil},
		{"build", []string{`{"ImportPath":"p","Action":"build-output","Output":"p/x.go:1: syntax error\n"}`,
			`{"ImportPath":"p","Action":"build-fail"}`, fail}, 1, []string{"syntax error", "FAIL p (build)"}, nil},
		{"not json", []string{"go: no such package"}, 1, []string{"go: no such package", "no package reported"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			c := newChecker(&b, false)
			for _, e := range tc.events {
				c.line([]byte(e))
			}
			if code := c.report(); code != tc.code {
				t.Errorf("exit code %d, want %d; output:\n%s", code, tc.code, b.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
			for _, w := range tc.not {
				if strings.Contains(b.String(), w) {
					t.Errorf("output has %q:\n%s", w, b.String())
				}
			}
		})
	}
}

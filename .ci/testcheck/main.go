// Command testcheck reads the events of `go test -json` on standard input,
// prints them as go test would without -json (package results, and the
// output of every test that fails), and exits non-zero when a test or a
// build failed, when any test was skipped, or when no package reported at
// all. CI pipes the test run through it so that a skip fails CI:
//
//	set -o pipefail
//	go test -json ./... | go run ./.ci/testcheck
//
// With -v it prints the output of every test, as go test -v does.
//
// It lives under .ci, outside ./..., so it is neither vetted nor tested with
// the module's packages.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json), build events
// included.
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output and build-fail only
	Test       string
	Output     string
}

// key names one test of one package; Test is "" for the package itself.
type key struct{ pkg, test string }

// checker folds events into what to print now and what to report at the end.
type checker struct {
	out      io.Writer
	verbose  bool
	buffered map[key][]string // output of tests still running
	skipped  []key
	skipOut  map[key][]string
	failed   []key
	packages int // packages that reported a result
}

func newChecker(out io.Writer, verbose bool) *checker {
	return &checker{out: out, verbose: verbose, buffered: map[key][]string{}, skipOut: map[key][]string{}}
}

// line handles one input line: an event, or anything else, printed as is.
func (c *checker) line(raw []byte) {
	var e event
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &e) != nil || e.Action == "" {
		fmt.Fprintf(c.out, "%s\n", raw)
		return
	}
	k := key{e.Package, e.Test}
	switch e.Action {
	case "build-output":
		fmt.Fprint(c.out, e.Output)
	case "build-fail":
		c.failed = append(c.failed, key{pkg: e.ImportPath, test: "(build)"})
	case "output":
		if k.test == "" || c.verbose {
			fmt.Fprint(c.out, e.Output)
		} else {
			c.buffered[k] = append(c.buffered[k], e.Output)
		}
	case "fail":
		c.failed = append(c.failed, k)
		c.flush(k, true)
	case "pass":
		c.flush(k, false)
	case "skip":
		c.skip(k)
	}
	if k.test == "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip") {
		c.packages++
	}
}

// flush prints the buffered output of k if print is set and forgets it; at
// the end of a package it does so for every test of the package still
// buffered (a panic or a timeout ends a package with its tests unfinished).
func (c *checker) flush(k key, print bool) {
	for bk, lines := range c.buffered {
		if bk == k || (k.test == "" && bk.pkg == k.pkg) {
			if print {
				fmt.Fprint(c.out, strings.Join(lines, ""))
			}
			delete(c.buffered, bk)
		}
	}
}

// skip records a skipped test with its output. A package skipped as a whole
// is one with no test files: that is not a skipped test.
func (c *checker) skip(k key) {
	if k.test == "" {
		return
	}
	c.skipped = append(c.skipped, k)
	c.skipOut[k] = c.buffered[k]
	delete(c.buffered, k)
}

// report prints the skips and failures and returns the exit code.
func (c *checker) report() int {
	code := 0
	if len(c.skipped) > 0 {
		fmt.Fprintf(c.out, "\ntestcheck: %d tests skipped; CI runs every test (PARLEY_REQUIRE_ALL=1 turns an unmet need into a failure):\n", len(c.skipped))
		for _, k := range c.skipped {
			fmt.Fprintf(c.out, "SKIP %s %s\n", k.pkg, k.test)
			if !c.verbose {
				fmt.Fprint(c.out, strings.Join(c.skipOut[k], ""))
			}
		}
		code = 1
	}
	if len(c.failed) > 0 {
		fmt.Fprintf(c.out, "\ntestcheck: %d failures:\n", len(c.failed))
		for _, k := range c.failed {
			fmt.Fprintf(c.out, "FAIL %s %s\n", k.pkg, k.test)
		}
		code = 1
	}
	if c.packages == 0 && !slices.ContainsFunc(c.failed, func(k key) bool { return k.test == "(build)" }) {
		fmt.Fprintln(c.out, "\ntestcheck: no package reported a result: is the input `go test -json`?")
		code = 1
	}
	if code == 0 {
		fmt.Fprintf(c.out, "\ntestcheck: %d packages, no test failed or skipped\n", c.packages)
	}
	return code
}

func main() {
	verbose := flag.Bool("v", false, "print the output of every test, not only of those that fail or skip")
	flag.Parse()
	c := newChecker(os.Stdout, *verbose)
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		c.line(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(os.Stdout, "testcheck: read: %v\n", err)
		os.Exit(1)
	}
	os.Exit(c.report())
}

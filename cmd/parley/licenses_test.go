package main

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var updateLicenses = flag.Bool("update-licenses", false, "rewrite docs/licenses.md from the binary's modules")

// licensesDoc lists the licence of every module linked into the binary.
const licensesDoc = "../../docs/licenses.md"

// allowed are the licences a module linked into parley may carry: the
// permissive ones compatible with distributing parley under Apache-2.0.
// A module under any other (or one this test cannot recognise) fails
// TestDependencyLicenses until someone decides and adds it here.
var allowed = []string{"Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "MIT"}

// licenceTexts recognise a licence by phrases of its text, white space
// collapsed.
var licenceTexts = []struct {
	id string
	re *regexp.Regexp
}{
	{"Apache-2.0", regexp.MustCompile(`Apache License,? Version 2\.0`)},
	{"MIT", regexp.MustCompile(`Permission is hereby granted, free of charge, to any person obtaining a copy`)},
	{"BSD-3-Clause", regexp.MustCompile(`Redistribution and use in source and binary forms.*(Neither the name|names of its contributors)`)},
	{"BSD-2-Clause", regexp.MustCompile(`Redistribution and use in source and binary forms`)},
	{"ISC", regexp.MustCompile(`Permission to use, copy, modify, and(/or)? distribute this software for any purpose`)},
	{"MPL-2.0", regexp.MustCompile(`Mozilla Public License,? [Vv]ersion 2\.0`)},
	{"GPL", regexp.MustCompile(`GNU (Affero |Lesser )?General Public License`)},
}

// module is one module linked into the binary.
type module struct {
	path, version, dir string
	licence            string // SPDX ids joined with " AND "; "" when unrecognised
}

// binaryModules lists the modules the parley binary links, but parley.
func binaryModules(t *testing.T) []module {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{.Path}}\t{{.Version}}\t{{.Dir}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var mods []module
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 || f[1] == "" || slices.ContainsFunc(mods, func(m module) bool { return m.path == f[0] }) {
			continue // parley itself has no version; a module appears once per package
		}
		mods = append(mods, module{path: f[0], version: f[1], dir: f[2]})
	}
	slices.SortFunc(mods, func(a, b module) int { return strings.Compare(a.path, b.path) })
	return mods
}

// licenceOf recognises the licences of the module's licence file.
func licenceOf(dir string) string {
	for _, name := range []string{"LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "COPYING"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		text := strings.Join(strings.Fields(string(b)), " ")
		var ids []string
		for _, l := range licenceTexts {
			if l.re.MatchString(text) && !(l.id == "BSD-2-Clause" && slices.Contains(ids, "BSD-3-Clause")) {
				ids = append(ids, l.id)
			}
		}
		return strings.Join(ids, " AND ")
	}
	return ""
}

// TestDependencyLicenses checks that every module linked into the binary
// carries allowed licences, and that docs/licenses.md lists them as they
// are (go test ./cmd/parley -run TestDependencyLicenses -update-licenses
// rewrites it).
func TestDependencyLicenses(t *testing.T) {
	mods := binaryModules(t)
	var doc bytes.Buffer
	doc.WriteString(licensesHeader)
	for _, m := range mods {
		m.licence = licenceOf(m.dir)
		for _, id := range strings.Split(m.licence, " AND ") {
			if !slices.Contains(allowed, id) {
				t.Errorf("%s %s: licence %q is not on the allowed list %v", m.path, m.version, m.licence, allowed)
			}
		}
		fmt.Fprintf(&doc, "| %s | %s | %s |\n", m.path, m.version, m.licence)
	}
	if *updateLicenses {
		if err := os.WriteFile(licensesDoc, doc.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := os.ReadFile(licensesDoc); !bytes.Equal(got, doc.Bytes()) {
		t.Errorf("%s is out of date: go test ./cmd/parley -run TestDependencyLicenses -update-licenses", licensesDoc)
	}
}

// TestWebPagesShipNoThirdPartyCode checks what docs/licenses.md says of
// the web pages: every file under web/ is parley's own, with no other
// project's licence notice and no minified bundle.
func TestWebPagesShipNoThirdPartyCode(t *testing.T) {
	notice := regexp.MustCompile(`(?i)@license|copyright \(c\)|SPDX-License-Identifier|\(c\) \d{4}`)
	err := filepath.WalkDir("../../web", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(d.Name(), ".min.") || notice.Match(b) {
			t.Errorf("%s looks like another project's code; list it and its licence in docs/licenses.md", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

const licensesHeader = `# Licences

parley is licensed under the [Apache License 2.0](../LICENSE).

## What the binary links

Every module linked into the parley binary (and so into the container
image), with the licence of its licence file, as
` + "`go test ./cmd/parley -run TestDependencyLicenses`" + ` finds them. The test fails
when a module brings a licence that is not Apache-2.0, BSD-2-Clause,
BSD-3-Clause, ISC or MIT, and when this list is out of date
(` + "`-update-licenses`" + ` rewrites it). Modules used only by tests
(Helm, the Kubernetes API types) are not shipped and not listed. The Go
standard library and runtime, in every Go binary, are BSD-3-Clause.

## What the web pages ship

The customer widget and the agent desktop (web/) are parley's own code,
under parley's licence: no third-party script, style sheet or font
(TestWebPagesShipNoThirdPartyCode checks it).

## Modules

| module | version | licence |
|---|---|---|
`

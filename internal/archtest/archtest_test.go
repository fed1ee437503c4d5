package archtest

import (
	"bufio"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// module is the module path every package path below is relative to.
const module = "github.com/parley-chat/parley"

var (
	// domains are the domain packages themselves, not their role sub-packages.
	domains = []string{"internal/chat", "internal/transcript", "internal/contact", "internal/ixn", "internal/stat"}
	// roles are the server roles; only cli wires them.
	roles = []string{"internal/chat/chatserver", "internal/webapi", "internal/ixn/ixnserver",
		"internal/ixn/ixnproxy", "internal/stat/statserver"}
	// concreteStores are the store backends; only cli picks one.
	concreteStores = []string{"internal/store/sqlite", "internal/store/postgres"}
	// drivers are the database modules a store package may import.
	drivers = []string{"modernc.org/sqlite", "github.com/jackc/pgx/v5"}
	// badNames are package names that say nothing about what is inside.
	badNames = []string{"util", "common", "helpers", "types", "models"}
)

// rule is one import rule: for a package it applies to, every import must be allowed.
type rule struct {
	name    string // the rule in words, for the failure message
	applies func(pkg string) bool
	allows  func(pkg, imp string) bool
}

var rules = []rule{
	{
		name:    "domain packages (chat, transcript, contact, ixn, stat) import only the standard library and other domain packages",
		applies: func(pkg string) bool { return isAny(pkg, domains) },
		allows:  func(_, imp string) bool { return stdlib(imp) || isAny(imp, domains) },
	},
	{
		name:    "auth is pure: it imports only the standard library and wire",
		applies: func(pkg string) bool { return is(pkg, "internal/auth") },
		allows:  func(_, imp string) bool { return stdlib(imp) || is(imp, "internal/wire") },
	},
	{
		name:    "wire imports only the standard library and github.com/coder/websocket",
		applies: func(pkg string) bool { return is(pkg, "internal/wire") },
		allows:  func(_, imp string) bool { return stdlib(imp) || under(imp, "github.com/coder/websocket") },
	},
	{
		name:    "bayeux knows nothing of chat: it imports no chat, transcript, contact, ixn or stat package",
		applies: func(pkg string) bool { return in(pkg, "internal/bayeux") },
		allows:  func(_, imp string) bool { return !inAny(imp, domains) },
	},
	{
		name:    "only cli imports a concrete store (store/sqlite, store/postgres)",
		applies: func(pkg string) bool { return !in(pkg, "internal/cli") && !in(pkg, "internal/store") },
		allows:  func(_, imp string) bool { return !inAny(imp, concreteStores) },
	},
	{
		name:    "store packages import only the standard library, domain packages, other store packages, their database drivers and testenv (for storetest)",
		applies: func(pkg string) bool { return in(pkg, "internal/store") },
		allows: func(_, imp string) bool {
			return stdlib(imp) || isAny(imp, domains) || in(imp, "internal/store") || is(imp, "internal/testenv") ||
				slices.ContainsFunc(drivers, func(d string) bool { return under(imp, d) })
		},
	},
	{
		name:    "testenv, imported by test support, imports only the standard library",
		applies: func(pkg string) bool { return is(pkg, "internal/testenv") },
		allows:  func(_, imp string) bool { return stdlib(imp) },
	},
	{
		name:    "only tests and test support (store/storetest) import testenv",
		applies: func(pkg string) bool { return !is(pkg, "internal/store/storetest") },
		allows:  func(_, imp string) bool { return !is(imp, "internal/testenv") },
	},
	{
		name:    "no package imports cli except cmd/parley",
		applies: func(pkg string) bool { return !is(pkg, "cmd/parley") && !in(pkg, "internal/cli") },
		allows:  func(_, imp string) bool { return !in(imp, "internal/cli") },
	},
	{
		name: "nothing under internal imports a role package (chat/chatserver, webapi, ixn/ixnserver, ixn/ixnproxy, stat/statserver) except cli; bench speaks the wire",
		applies: func(pkg string) bool {
			return in(pkg, "internal") && !in(pkg, "internal/cli")
		},
		allows: func(pkg, imp string) bool { return roleOf(imp) == "" || roleOf(imp) == roleOf(pkg) },
	},
}

// violation is an import that breaks a rule.
type violation struct {
	pkg, imp, rule string
}

func (v violation) String() string {
	return fmt.Sprintf("%s imports %s, breaking the rule: %s", v.pkg, v.imp, v.rule)
}

// violations checks the imports of package pkg (both full import paths) against every rule.
func violations(pkg string, imports []string) []violation {
	var vs []violation
	for _, r := range rules {
		if !r.applies(pkg) {
			continue
		}
		for _, imp := range imports {
			if !r.allows(pkg, imp) {
				vs = append(vs, violation{pkg: pkg, imp: imp, rule: r.name})
			}
		}
	}
	return vs
}

// stdlib reports whether imp is a standard library path: its first element has no dot.
func stdlib(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".")
}

// under reports whether path is base or one of its sub-packages.
func under(path, base string) bool { return path == base || strings.HasPrefix(path, base+"/") }

// is reports whether path is the module's package rel.
func is(path, rel string) bool { return path == module+"/"+rel }

// in reports whether path is the module's package rel or one of its sub-packages.
func in(path, rel string) bool { return under(path, module+"/"+rel) }

func isAny(path string, rels []string) bool {
	return slices.ContainsFunc(rels, func(rel string) bool { return is(path, rel) })
}

func inAny(path string, rels []string) bool {
	return slices.ContainsFunc(rels, func(rel string) bool { return in(path, rel) })
}

// roleOf is the role whose tree holds path, or "" if none does; a role's own
// sub-packages (a test server, say) may import it.
func roleOf(path string) string {
	for _, r := range roles {
		if in(path, r) {
			return r
		}
	}
	return ""
}

// pkgInfo is what the test knows of one directory of Go files.
type pkgInfo struct {
	path    string   // import path
	dir     string   // absolute directory
	names   []string // package clauses of the non-test files
	imports []string // imports of the non-test files, sorted, unique
	goFiles int      // .go files, tests included
}

// moduleRoot walks up from the test's directory to the go.mod of module.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if mod, err := modulePath(filepath.Join(dir, "go.mod")); err == nil {
			if mod != module {
				t.Fatalf("go.mod in %s declares module %q, want %q", dir, mod, module)
			}
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test directory")
		}
		dir = parent
	}
}

// modulePath reads the module line of a go.mod file.
func modulePath(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", fmt.Errorf("open go.mod: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", errors.New("go.mod has no module line")
}

// loadPackages parses every directory of Go files under root, skipping the
// directories the go command ignores (testdata, vendor, names starting with . or _).
func loadPackages(t *testing.T, root string) []pkgInfo {
	t.Helper()
	var pkgs []pkgInfo
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if path != root && ignoredDir(d.Name()) {
			return filepath.SkipDir
		}
		p, err := loadDir(root, path)
		if err != nil {
			return err
		}
		if p.goFiles > 0 {
			pkgs = append(pkgs, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return pkgs
}

func ignoredDir(name string) bool {
	return name == "testdata" || name == "vendor" || name == "node_modules" ||
		strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// loadDir reads the package clauses and imports of the Go files in dir.
func loadDir(root, dir string) (pkgInfo, error) {
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return pkgInfo{}, fmt.Errorf("package path of %s: %w", dir, err)
	}
	p := pkgInfo{path: strings.TrimSuffix(module+"/"+filepath.ToSlash(rel), "/."), dir: dir}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return pkgInfo{}, fmt.Errorf("list %s: %w", dir, err)
	}
	p.goFiles = len(files)
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.ImportsOnly)
		if err != nil {
			return pkgInfo{}, fmt.Errorf("parse %s: %w", file, err)
		}
		p.names = appendUnique(p.names, f.Name.Name)
		for _, spec := range f.Imports {
			imp, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return pkgInfo{}, fmt.Errorf("import path in %s: %w", file, err)
			}
			p.imports = appendUnique(p.imports, imp)
		}
	}
	slices.Sort(p.imports)
	return p, nil
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// packageDoc returns the package doc comment of dir/doc.go.
func packageDoc(dir string) (string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, "doc.go"), nil,
		parser.PackageClauseOnly|parser.ParseComments)
	if err != nil {
		return "", fmt.Errorf("parse doc.go: %w", err)
	}
	return docText(f), nil
}

func docText(f *ast.File) string {
	if f.Doc == nil {
		return ""
	}
	return f.Doc.Text()
}

// importProblems lists every import of pkgs that breaks a rule.
func importProblems(pkgs []pkgInfo) []string {
	var problems []string
	for _, p := range pkgs {
		for _, v := range violations(p.path, p.imports) {
			problems = append(problems, v.String())
		}
	}
	return problems
}

// nameProblems lists the packages whose directory or package clause is a name
// that says nothing.
func nameProblems(pkgs []pkgInfo) []string {
	var problems []string
	for _, p := range pkgs {
		for _, name := range appendUnique(slices.Clone(p.names), filepath.Base(p.dir)) {
			if slices.Contains(badNames, name) {
				problems = append(problems, fmt.Sprintf("%s is named %q, breaking the rule: no package named %s",
					p.path, name, strings.Join(badNames, ", ")))
			}
		}
	}
	return problems
}

// docProblems lists the packages under internal/ without a doc.go that
// starts with "Package <name> ".
func docProblems(pkgs []pkgInfo) []string {
	var problems []string
	for _, p := range pkgs {
		if !in(p.path, "internal") {
			continue
		}
		doc, err := packageDoc(p.dir)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v, breaking the rule: every package under internal/ has a doc.go", p.path, err))
			continue
		}
		if want := "Package " + filepath.Base(p.dir) + " "; !strings.HasPrefix(doc, want) {
			problems = append(problems, fmt.Sprintf("%s: doc.go has no package doc comment starting %q", p.path, want))
		}
	}
	return problems
}

func TestImportRules(t *testing.T) {
	for _, problem := range importProblems(loadPackages(t, moduleRoot(t))) {
		t.Error(problem)
	}
}

func TestPackageNames(t *testing.T) {
	for _, problem := range nameProblems(loadPackages(t, moduleRoot(t))) {
		t.Error(problem)
	}
}

func TestPackageDocs(t *testing.T) {
	for _, problem := range docProblems(loadPackages(t, moduleRoot(t))) {
		t.Error(problem)
	}
}

// TestChecksCatchAFakeTree runs the loader and the checks over a small module
// with one fault of each kind, so that a check that sees nothing fails here.
func TestChecksCatchAFakeTree(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"go.mod":                          "module " + module + "\n\ngo 1.26\n",
		"cmd/parley/main.go":              "package main\n\nimport _ \"" + module + "/internal/cli\"\n",
		"internal/cli/doc.go":             "// Package cli wires.\npackage cli\n\nimport _ \"" + module + "/internal/store/sqlite\"\n",
		"internal/chat/doc.go":            "// Package chat is a domain.\npackage chat\n",
		"internal/chat/session.go":        "package chat\n\nimport (\n\t\"time\"\n\t\"" + module + "/internal/wire\"\n)\n",
		"internal/chat/session_test.go":   "package chat\n\nimport _ \"" + module + "/internal/store/sqlite\"\n",
		"internal/store/sqlite/sqlite.go": "// Package sqlite stores.\npackage sqlite\n",
		"internal/util/util.go":           "package util\n",
		"internal/testdata/x/x.go":        "package x\n\nimport _ \"" + module + "/internal/cli\"\n",
	}
	for name, text := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pkgs := loadPackages(t, root)
	checkProblems(t, "imports", importProblems(pkgs),
		module+"/internal/chat imports "+module+"/internal/wire, breaking the rule: domain packages")
	checkProblems(t, "names", nameProblems(pkgs), module+"/internal/util is named \"util\"")
	checkProblems(t, "docs", docProblems(pkgs),
		module+"/internal/store/sqlite: parse doc.go", module+"/internal/util: parse doc.go")
}

// checkProblems asserts that got has exactly one problem starting with each of want.
func checkProblems(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d problems, want %d:\n%s", what, len(got), len(want), strings.Join(got, "\n"))
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
			t.Errorf("%s: no problem starting %q in:\n%s", what, w, strings.Join(got, "\n"))
		}
	}
}

// TestLoaderSeesTheModule guards the rule tests against passing vacuously on
// a loader that finds nothing.
func TestLoaderSeesTheModule(t *testing.T) {
	pkgs := loadPackages(t, moduleRoot(t))
	i := slices.IndexFunc(pkgs, func(p pkgInfo) bool { return is(p.path, "internal/transcript") })
	if i < 0 {
		t.Fatalf("internal/transcript not found among %d packages", len(pkgs))
	}
	if !slices.Contains(pkgs[i].imports, "time") || !slices.Equal(pkgs[i].names, []string{"transcript"}) {
		t.Errorf("internal/transcript loaded as %+v, want package transcript importing time", pkgs[i])
	}
	j := slices.IndexFunc(pkgs, func(p pkgInfo) bool { return is(p.path, "internal/archtest") })
	if j < 0 || len(pkgs[j].imports) != 0 {
		t.Errorf("internal/archtest should be found with no non-test imports (test files are exempt)")
	}
}

func TestRules(t *testing.T) {
	m := func(rel string) string { return module + "/" + rel }
	tests := []struct {
		pkg, imp string
		want     string // a word of the broken rule, or "" when allowed
	}{
		{m("internal/chat"), "time", ""},
		{m("internal/chat"), m("internal/transcript"), ""},
		{m("internal/chat"), m("internal/wire"), "domain packages"},
		{m("internal/transcript"), "github.com/google/uuid", "domain packages"},
		{m("internal/ixn"), m("internal/config"), "domain packages"},
		{m("internal/stat"), m("internal/ixn/ixnserver"), "domain packages"},
		{m("internal/chat/chatserver"), m("internal/wire"), ""},
		{m("internal/wire"), "github.com/coder/websocket", ""},
		{m("internal/wire"), "github.com/coder/websocket/wsjson", ""},
		{m("internal/wire"), m("internal/transcript"), "wire imports only"},
		{m("internal/wire"), "github.com/coder/websocketx", "wire imports only"},
		{m("internal/bayeux"), "github.com/coder/websocket", ""},
		{m("internal/bayeux"), m("internal/chat"), "bayeux knows nothing"},
		{m("internal/bayeux"), m("internal/ixn/ixnserver"), "bayeux knows nothing"},
		{m("internal/cli"), m("internal/store/sqlite"), ""},
		{m("internal/chat/chatserver"), m("internal/store/postgres"), "only cli imports a concrete store"},
		{m("internal/webapi"), m("internal/store/sqlite"), "only cli imports a concrete store"},
		{m("internal/store/sqlite"), "modernc.org/sqlite", ""},
		{m("internal/store/postgres"), "github.com/jackc/pgx/v5/pgxpool", ""},
		{m("internal/store/postgres"), m("internal/store/storetest"), ""},
		{m("internal/store/sqlite"), m("internal/transcript"), ""},
		{m("internal/store/sqlite"), m("internal/config"), "store packages import only"},
		{m("internal/store/sqlite"), "github.com/lib/pq", "store packages import only"},
		{m("cmd/parley"), m("internal/cli"), ""},
		{m("internal/webapi"), m("internal/cli"), "no package imports cli"},
		{m("cmd/other"), m("internal/cli"), "no package imports cli"},
		{m("internal/cli"), m("internal/webapi"), ""},
		{m("internal/webapi"), m("internal/chat/chatserver"), "imports a role package"},
		{m("internal/bench"), m("internal/ixn/ixnserver"), "bench speaks the wire"},
		{m("internal/bench"), m("internal/wire"), ""},
		{m("internal/ixn/ixnproxy"), m("internal/ixn/ixnserver"), "imports a role package"},
		{m("internal/webapi/webapitest"), m("internal/webapi"), ""},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.pkg, module+"/")+"->"+tt.imp, func(t *testing.T) {
			vs := violations(tt.pkg, []string{"fmt", tt.imp})
			if tt.want == "" {
				if len(vs) != 0 {
					t.Errorf("allowed import rejected: %v", vs)
				}
				return
			}
			if !slices.ContainsFunc(vs, func(v violation) bool { return v.imp == tt.imp && strings.Contains(v.rule, tt.want) }) {
				t.Errorf("violations = %v, want one for %s naming %q", vs, tt.imp, tt.want)
			}
		})
	}
}

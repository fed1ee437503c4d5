package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/deploy"
	"github.com/parley-chat/parley/internal/config"
)

const base = `
databases:
  main: {driver: sqlite, dsn: parley.db}
applications:
  chat-1: {type: chat-server, listen: 127.0.0.1:7021, database: main}
`

func TestParseDeployFiles(t *testing.T) {
	files, err := filepath.Glob("../../deploy/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("deploy files: %v %v", files, err)
	}
	for _, f := range files {
		if filepath.Base(f) == "cluster.yaml" {
			continue // TestClusterExample
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			d, err := config.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Names(); !slices.Equal(got, []string{"chat-1", "chat-2", "gms-1", "ixn-1", "stat-1", "stat-2"}) {
				t.Errorf("Names() = %v", got)
			}
		})
	}
}

func TestEmbeddedDeployments(t *testing.T) {
	tests := []struct {
		data   []byte
		driver string
		dsn    string
	}{
		{deploy.Embedded, "sqlite", filepath.Join("parley-data", "parley.db")},
		{deploy.Postgres, "postgres", "postgres://postgres@127.0.0.1:5432/parley?sslmode=disable"},
	}
	for _, tt := range tests {
		d, err := config.Parse("<embedded>", tt.data)
		if err != nil {
			t.Fatal(err)
		}
		db := d.Databases["main"]
		if db.Driver != tt.driver || d.DSN(db) != tt.dsn {
			t.Errorf("main = %+v, DSN %q; want %s %q", db, d.DSN(db), tt.driver, tt.dsn)
		}
		for _, name := range []string{"chat-1", "chat-2"} {
			a := d.Applications[name]
			s := a.Chat.Settings
			if a.Type != config.ChatServer || s.SessionRestorationMode != "simple" || s.TranscriptAutoSave != 1 ||
				!slices.Equal(a.Connections, []string{"ixn-1"}) || !a.Chat.InactivityControl.Enabled {
				t.Errorf("%s: %+v %+v", name, a, s)
			}
		}
		if d.Applications["chat-1"].Listen != "127.0.0.1:7021" || d.Applications["chat-2"].Listen != "127.0.0.1:7022" {
			t.Error("chat servers are not on 7021 and 7022")
		}
		if p := d.StatPrimary(d.Applications["stat-2"]); p == nil || p.Name != "stat-1" {
			t.Errorf("stat-2 is not the backup of stat-1: %v", p)
		}
		web := d.Applications["gms-1"]
		if q, ok := web.Web.Queue("customer-support"); web.Listen != "127.0.0.1:8080" || !ok || q != "default" ||
			!slices.Equal(web.Connections, []string{"chat-1", "chat-2", "ixn-1", "stat-1", "stat-2"}) {
			t.Errorf("gms-1 = %+v %+v", web, web.Web)
		}
	}
}

func TestParseTopLevel(t *testing.T) {
	d, err := config.Parse("x.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if d.File != "x.yaml" || d.DataDir != "./parley-data" {
		t.Errorf("File %q DataDir %q", d.File, d.DataDir)
	}
	if got := d.Databases["main"]; got != (config.Database{Name: "main", Driver: "sqlite", DSN: "parley.db"}) {
		t.Errorf("database main = %+v", got)
	}
	a := d.Applications["chat-1"]
	if a.Name != "chat-1" || a.Database != "main" || a.Log.Verbose != "standard" {
		t.Errorf("chat-1 = %+v", a)
	}
}

func TestDSN(t *testing.T) {
	tests := []struct {
		dataDir, driver, dsn, want string
	}{
		{"./parley-data", "sqlite", "parley.db", "parley-data/parley.db"},
		{"/var/lib/parley", "sqlite", "db/parley.db?_pragma=busy_timeout(5000)", "/var/lib/parley/db/parley.db?_pragma=busy_timeout(5000)"},
		{"/var/lib/parley", "sqlite", "file:parley.db?mode=rwc", "file:/var/lib/parley/parley.db?mode=rwc"},
		{"/var/lib/parley", "sqlite", "/srv/parley.db", "/srv/parley.db"},
		{"/var/lib/parley", "sqlite", ":memory:", ":memory:"},
		{"/var/lib/parley", "postgres", "postgres://db1/parley", "postgres://db1/parley"},
	}
	for _, tt := range tests {
		d := &config.Deployment{DataDir: tt.dataDir}
		if got := d.DSN(config.Database{Driver: tt.driver, DSN: tt.dsn}); got != filepath.FromSlash(tt.want) {
			t.Errorf("DSN(%s %q) in %q = %q, want %q", tt.driver, tt.dsn, tt.dataDir, got, tt.want)
		}
	}
}

func TestApp(t *testing.T) {
	d, err := config.Parse("x.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if a, err := d.App("chat-1"); err != nil || a.Name != "chat-1" {
		t.Errorf("App(chat-1) = %v, %v", a, err)
	}
	_, err = d.App("chat-9")
	var ce *config.Error
	if !errors.As(err, &ce) || ce.File != "x.yaml" || ce.App != "chat-9" || !strings.Contains(err.Error(), "chat-1") {
		t.Errorf("App(chat-9) error = %v", err)
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.yaml")
	if err := os.WriteFile(path, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	if d, err := config.Load(path); err != nil || d.File != path {
		t.Errorf("Load = %v, %v", d, err)
	}
	if _, err := config.Load(path + ".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
}

// TestParseErrors covers every class of deployment error; each wants an
// *Error naming the right application and key, and a message on one line.
func TestParseErrors(t *testing.T) {
	const db = "databases: {main: {driver: sqlite, dsn: p.db}}\n"
	const chat = "type: chat-server, listen: 127.0.0.1:7021, database: main"
	tests := []struct {
		name, yaml  string
		app, option string
		contains    string
	}{
		{"empty file", "", "", "", "empty deployment file"},
		{"not yaml", "applications: [", "", "", "line"},
		{"two documents", base + "---\n" + base, "", "", "more than one YAML document"},
		{"unknown top key", base + "datadir: x\n", "", "", `line 6: unknown key "datadir"`},
		{"unknown app key", db + "applications: {chat-1: {" + chat + ", lisen: x}}", "chat-1", "", `unknown key "lisen"`},
		{"bad key in the second app", db + "applications:\n  chat-1: {" + chat + "}\n  chat-2:\n    type: chat-server\n    connections: 5\ndata-dir: x\n",
			"chat-2", "", "line 6: cannot unmarshal !!int `5` into a list of names"},
		{"unknown db key", "databases: {main: {driver: sqlite, dsn: p, user: x}}\n", "", "", `unknown key "user"`},
		{"no applications", db, "", "", "no applications"},
		{"unknown driver", "databases: {main: {driver: mysql, dsn: x}}\napplications: {w: {type: web-api, listen: ':80'}}",
			"", "", `database "main": driver "mysql": want sqlite or postgres`},
		{"empty dsn", "databases: {main: {driver: postgres}}\napplications: {w: {type: web-api, listen: ':80'}}",
			"", "", `database "main": dsn is empty`},
		{"dsn and dsn-env", "databases: {main: {driver: postgres, dsn: x, dsn-env: Y}}\napplications: {w: {type: web-api, listen: ':80'}}",
			"", "", `database "main": dsn and dsn-env: not both`},
		{"unknown type", db + "applications: {x: {type: chat, listen: ':1'}}", "x", "type",
			"want chat-server, web-api, interaction-server, interaction-proxy, stat-server"},
		{"bad app name", db + "applications: {'a/b': {type: web-api, listen: ':1'}}", "a/b", "", "invalid name"},
		{"missing listen", db + "applications: {w: {type: web-api}}", "w", "listen", "missing"},
		{"listen not host:port", db + "applications: {w: {type: web-api, listen: localhost}}", "w", "listen", "want host:port"},
		{"listen bad port", db + "applications: {w: {type: web-api, listen: 'localhost:99999'}}", "w", "listen", "1-65535"},
		{"shared listen", db + "applications: {a: {type: web-api, listen: ':80'}, b: {type: web-api, listen: '127.0.0.1:80'}}",
			"b", "listen", `also the listen address of "a"`},
		{"chat without database", "applications: {c: {type: chat-server, listen: ':1'}}", "c", "database", "needs a database"},
		{"undeclared database", db + "applications: {c: {type: chat-server, listen: ':1', database: other}}",
			"c", "database", "no such database"},
		{"unknown connection", db + "applications: {chat-1: {" + chat + ", connections: [ixn-1]}}",
			"chat-1", "connections", "no such application"},
		{"self connection", db + "applications: {chat-1: {" + chat + ", connections: [chat-1]}}",
			"chat-1", "connections", "itself"},
		{"chat connection to a web-api", db + "applications: {w: {type: web-api, listen: ':1'}, chat-1: {" + chat + ", connections: [w]}}",
			"chat-1", "connections", "a chat-server connects to interaction servers or proxies only (this is a web-api)"},
		{"unknown section", db + "applications: {chat-1: {" + chat + ", options: {setings: {}}}}",
			"chat-1", "", "unknown section for chat-server (want client-file-transfer, client:<name>, health-service, inactivity-control, limits, log, settings)"},
		{"chat section on web-api", db + "applications: {w: {type: web-api, listen: ':1', options: {inactivity-control: {}}}}",
			"w", "", "unknown section for web-api (want cometd, endpoints, limits, log, push, settings)"},
		{"unknown option", db + "applications: {chat-1: {" + chat + ", options: {settings: {transcript-autosave: 1}}}}",
			"chat-1", "transcript-autosave", "unknown option"},
		{"list value", db + "applications: {chat-1: {" + chat + ", options: {log: {verbose: [a]}}}}",
			"chat-1", "verbose", "want a single value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("deploy/x.yaml", []byte(tt.yaml))
			ce := firstError(t, err)
			if ce.File != "deploy/x.yaml" || ce.App != tt.app || ce.Option != tt.option {
				t.Errorf("error %+v: want app %q option %q", ce, tt.app, tt.option)
			}
			if !strings.Contains(ce.Error(), tt.contains) {
				t.Errorf("error %q does not contain %q", ce.Error(), tt.contains)
			}
		})
	}
}

// firstError asserts err holds *Error values, each rendered on one line
// starting with its file, and returns the first.
func firstError(t *testing.T, err error) *config.Error {
	t.Helper()
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *config.Error", err, err)
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if !strings.HasPrefix(line, ce.File+": ") {
			t.Errorf("error line %q does not start with the file", line)
		}
	}
	return ce
}

func TestErrorsAreJoined(t *testing.T) {
	yaml := `
databases: {main: {driver: sqlite, dsn: p.db}}
applications:
  a: {type: web-api}
  b: {type: web-api, listen: ':1', connections: [zz]}
`
	_, err := config.Parse("x.yaml", []byte(yaml))
	want := []string{
		`x.yaml: application "a": listen: missing (want host:port)`,
		`x.yaml: application "b": connections = zz: no such application`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("error:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

func TestAdminListenChecks(t *testing.T) {
	for _, c := range []struct{ admin, want string }{
		{"127.0.0.1:9101", ""},
		{"nonsense", `[] admin-listen = nonsense: want host:port`},
		{"127.0.0.1:7021", `admin-listen = 127.0.0.1:7021: also the listen address of "chat-1"`},
	} {
		doc := fmt.Sprintf("databases: {main: {driver: sqlite, dsn: x.db}}\napplications:\n  chat-1: {type: chat-server, listen: \"127.0.0.1:7021\", admin-listen: %q, database: main}\n", c.admin)
		_, err := config.Parse("x.yaml", []byte(doc))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("admin-listen %s: %v", c.admin, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(c.want, "[] "))):
			t.Errorf("admin-listen %s: error %v, want one containing %q", c.admin, err, c.want)
		}
	}
}

// TestResolveEnv checks that dsn-env is valid without its variable, and
// that ResolveEnv takes the DSN from it or names the variable missing.
func TestResolveEnv(t *testing.T) {
	const file = "databases: {main: {driver: postgres, dsn-env: PARLEY_DSN}}\napplications: {w: {type: web-api, listen: ':80'}}"
	d, err := config.Parse("x.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	err = d.ResolveEnv(func(string) string { return "" })
	if err == nil || err.Error() != `x.yaml: database "main": dsn-env: the environment variable PARLEY_DSN is not set` {
		t.Fatalf("unset: %v", err)
	}
	env := map[string]string{"PARLEY_DSN": "postgres://db/parley"}
	if err := d.ResolveEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if got := d.DSN(d.Databases["main"]); got != "postgres://db/parley" {
		t.Errorf("DSN = %q", got)
	}
}

// TestDisabledKey: a chat server may be disabled in the file; no other
// application type may.
func TestDisabledKey(t *testing.T) {
	doc := `databases: {main: {driver: sqlite, dsn: x.db}}
applications:
  chat-1: {type: chat-server, listen: "127.0.0.1:7021", database: main, disabled: true}
  chat-2: {type: chat-server, listen: "127.0.0.1:7022", database: main}
`
	d, err := config.Parse("x.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if !d.Applications["chat-1"].Disabled || d.Applications["chat-2"].Disabled {
		t.Errorf("disabled: chat-1 %t, chat-2 %t", d.Applications["chat-1"].Disabled, d.Applications["chat-2"].Disabled)
	}
	_, err = config.Parse("x.yaml", []byte("applications:\n  gms-1: {type: web-api, listen: \"127.0.0.1:7023\", disabled: true}\n"))
	want := `x.yaml: application "gms-1": disabled = true: only a chat-server may be disabled`
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}

package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// AppType is the role an application plays.
type AppType string

// The application types a deployment file may name.
const (
	ChatServer        AppType = "chat-server"
	WebAPI            AppType = "web-api"
	InteractionServer AppType = "interaction-server"
	InteractionProxy  AppType = "interaction-proxy"
	StatServer        AppType = "stat-server"
)

var appTypes = []AppType{ChatServer, WebAPI, InteractionServer, InteractionProxy, StatServer, ApplicationCluster}

// DefaultDataDir is the data-dir of a file that names none.
const DefaultDataDir = "./parley-data"

// Deployment is a parsed and validated deployment file.
type Deployment struct {
	File         string                  // the path it was read from ("<embedded>" for the built-in one)
	DataDir      string                  // as written; DefaultDataDir when the file names none
	Databases    map[string]Database     // by name
	Applications map[string]*Application // by name
	Trust        Trust                   // secret-file, secret-env, trusted-ca-file
}

// Database is one entry of databases.
type Database struct {
	Name   string // its key in the file
	Driver string // "sqlite" or "postgres"
	DSN    string // as written; see Deployment.DSN
	// DSNEnv is dsn-env: the name of an environment variable holding the
	// DSN instead (a password kept in a secret store); ResolveEnv reads it.
	DSNEnv string
}

// Application is one entry of applications.
type Application struct {
	Name        string   // its key in the file; a chat server's alias
	Type        AppType  // its role
	Listen      string   // host:port it serves on
	Database    string   // a key of Deployment.Databases; empty for none
	Connections []string // names of the applications it talks to
	// Backup is backup: the chat server that stands by for this one (a
	// warm-standby pair, docs/ha.md); empty for none.
	Backup string
	// TLS is the tls key; nil serves and dials in plain text.
	TLS *TLSFiles
	// Disabled is disabled (chat servers only), default false: the
	// administrator's way, in the file, to make a chat server take no new
	// chats while it serves its current ones (the seed's disabling of the
	// application in the configuration), applied on SIGHUP.
	Disabled bool
	// AdminListen is admin-listen: host:port of a second, plain listener
	// serving /healthz, /metrics and the role's read-only figures without
	// credentials, for a monitoring network the administrator trusts.
	// Empty: none; monitoring then needs the admin token.
	AdminListen string
	// Clients are the client:<name> sections (chat and interaction
	// servers): the external clients admitted, by name.
	Clients map[string]*ClientOptions
	Log     LogOptions
	// Chat is non-nil exactly for chat-server applications, with defaults
	// applied and validated.
	Chat *ChatServerOptions
	// Web is non-nil exactly for web-api applications, with defaults applied
	// and validated.
	Web *WebAPIOptions
	// Ixn is non-nil exactly for interaction-server applications, with
	// defaults applied and validated.
	Ixn *InteractionServerOptions
	// Proxy is non-nil exactly for interaction-proxy applications.
	Proxy *ProxyOptions
	// Cluster is non-nil exactly for application-cluster entries.
	Cluster *ClusterOptions
	// Stat is non-nil exactly for stat-server applications, with defaults
	// applied and validated.
	Stat *StatServerOptions
}

// fileDoc is the file as written; yaml's KnownFields makes any other key an
// error at every level.
type fileDoc struct {
	DataDir       string             `yaml:"data-dir"`
	SecretFile    string             `yaml:"secret-file"`
	SecretEnv     string             `yaml:"secret-env"`
	TrustedCAFile string             `yaml:"trusted-ca-file"`
	Databases     map[string]fileDB  `yaml:"databases"`
	Applications  map[string]fileApp `yaml:"applications"`
}

type fileDB struct {
	Driver string `yaml:"driver"`
	DSN    string `yaml:"dsn"`
	DSNEnv string `yaml:"dsn-env"`
}

type fileApp struct {
	Type        string                          `yaml:"type"`
	Listen      string                          `yaml:"listen"`
	Database    string                          `yaml:"database"`
	Connections []string                        `yaml:"connections"`
	Options     map[string]map[string]yaml.Node `yaml:"options"`
	TLS         *fileTLS                        `yaml:"tls"`
	AdminListen string                          `yaml:"admin-listen"`
	Backup      string                          `yaml:"backup"`
	Disabled    bool                            `yaml:"disabled"`
}

// Load reads and parses the deployment file at path.
func Load(path string) (*Deployment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates a deployment file; file names it in errors.
// Errors are *Error values, joined when there are several.
func Parse(file string, data []byte) (*Deployment, error) {
	doc, err := decode(file, data)
	if err != nil {
		return nil, err
	}
	d := &Deployment{File: file, DataDir: doc.DataDir,
		Databases: map[string]Database{}, Applications: map[string]*Application{},
		Trust: Trust{SecretFile: doc.SecretFile, SecretEnv: doc.SecretEnv, TrustedCAFile: doc.TrustedCAFile}}
	if d.DataDir == "" {
		d.DataDir = DefaultDataDir
	}
	errs := checkTrust(d.Trust)
	errs = append(errs, d.addDatabases(doc.Databases)...)
	errs = append(errs, d.addApplications(doc.Applications)...)
	for _, e := range errs {
		e.File = file
	}
	if err := joinErrors(errs); err != nil {
		return nil, err
	}
	return d, nil
}

// decode reads exactly one YAML document strictly.
func decode(file string, data []byte) (*fileDoc, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var doc fileDoc
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return nil, &Error{File: file, Msg: "empty deployment file"}
	}
	if err != nil {
		return nil, yamlError(file, data, err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &Error{File: file, Msg: "more than one YAML document"}
	}
	return &doc, nil
}

var unknownField = regexp.MustCompile(`^(line \d+): field (.*) not found in type \S+$`)

// goTypes names the Go types of fileDoc the way a user thinks of them.
var goTypes = strings.NewReplacer(
	"into map[string]map[string]yaml.Node", "into options (a mapping of sections)",
	"into map[string]yaml.Node", "into an options section (a mapping)",
	"into map[string]config.fileApp", "into applications (a mapping)",
	"into map[string]config.fileDB", "into databases (a mapping)",
	"into config.fileApp", "into an application (a mapping)",
	"into config.fileTLS", "into tls (a mapping)",
	"into config.fileDB", "into a database (a mapping)",
	"into config.fileDoc", "into a deployment (a mapping)",
	"into []string", "into a list of names",
	"into string", "into a string",
)

// yamlError turns yaml's (possibly multi-line) error into one *Error per
// problem, each on one line, with Go type names replaced by what a user wrote
// and, when the line lies inside an application, that application named.
func yamlError(file string, data []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return &Error{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	apps := appLines(data)
	errs := make([]*Error, len(te.Errors))
	for i, msg := range te.Errors {
		msg = goTypes.Replace(unknownField.ReplaceAllString(msg, `$1: unknown key "$2"`))
		errs[i] = &Error{File: file, App: apps.at(msg), Msg: msg}
	}
	return joinErrors(errs)
}

// appSpan is the first line of an application's entry in the file.
type appSpan struct {
	name string
	line int
}

type appSpans []appSpan

var errorLine = regexp.MustCompile(`^line (\d+):`)

// appLines finds where each application starts in a well-formed YAML file;
// the type errors it is used for come from a file that parsed as YAML.
func appLines(data []byte) appSpans {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return nil
	}
	doc := root.Content[0]
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value != "applications" || doc.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		var spans appSpans
		apps := doc.Content[i+1].Content
		for j := 0; j+1 < len(apps); j += 2 {
			spans = append(spans, appSpan{name: apps[j].Value, line: apps[j].Line})
		}
		if i+2 < len(doc.Content) { // the key after applications ends the last one
			spans = append(spans, appSpan{line: doc.Content[i+2].Line})
		}
		slices.SortFunc(spans, func(a, b appSpan) int { return a.line - b.line })
		return spans
	}
	return nil
}

// at names the application whose entry holds the line msg starts with, the
// last one starting at or before it; "" outside applications.
func (s appSpans) at(msg string) string {
	m := errorLine.FindStringSubmatch(msg)
	if m == nil || len(s) == 0 {
		return ""
	}
	var line int
	fmt.Sscan(m[1], &line)
	name := ""
	for _, sp := range s {
		if sp.line > line {
			break
		}
		name = sp.name
	}
	return name
}

// Names returns the application names, sorted.
func (d *Deployment) Names() []string {
	return slices.Sorted(maps.Keys(d.Applications))
}

// DSN returns the connection string to open db with. A relative sqlite path
// (optionally "file:"-prefixed, optionally with a "?query") is joined to
// DataDir; ":memory:", absolute paths and postgres DSNs are returned as is.
func (d *Deployment) DSN(db Database) string {
	if db.Driver != "sqlite" {
		return db.DSN
	}
	prefix, rest := "", db.DSN
	if after, ok := strings.CutPrefix(db.DSN, "file:"); ok {
		prefix, rest = "file:", after
	}
	path, query, hasQuery := strings.Cut(rest, "?")
	if path == "" || path == ":memory:" || filepath.IsAbs(path) {
		return db.DSN
	}
	path = filepath.Join(d.DataDir, path)
	if hasQuery {
		path += "?" + query
	}
	return prefix + path
}

// ResolveEnv sets the DSN of every database that names a dsn-env from the
// environment getenv reads. It fails, naming the database and the variable,
// when one is unset or empty. Check-config does not call it: a file is valid
// wherever its variables are set.
func (d *Deployment) ResolveEnv(getenv func(string) string) error {
	var errs []*Error
	for _, name := range slices.Sorted(maps.Keys(d.Databases)) {
		db := d.Databases[name]
		if db.DSNEnv == "" {
			continue
		}
		if db.DSN = getenv(db.DSNEnv); db.DSN == "" {
			errs = append(errs, &Error{File: d.File, Msg: fmt.Sprintf("database %q: dsn-env: the environment variable %s is not set", name, db.DSNEnv)})
		}
		d.Databases[name] = db
	}
	return joinErrors(errs)
}

// App returns the application called name, or an *Error naming the file and
// the missing application.
func (d *Deployment) App(name string) (*Application, error) {
	if a, ok := d.Applications[name]; ok {
		return a, nil
	}
	return nil, &Error{File: d.File, App: name,
		Msg: "no such application (have " + strings.Join(d.Names(), ", ") + ")"}
}

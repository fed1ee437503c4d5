package config

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// Trust is what the deployment's applications prove themselves with
// (docs/security.md): the deployment secret and the CA they trust.
type Trust struct {
	// SecretFile is secret-file: a file holding the deployment secret
	// (16 bytes or more; surrounding white space is ignored). Relative
	// paths are under data-dir. Empty, with no SecretEnv: the secret is
	// <data-dir>/secret, created on first start (one host).
	SecretFile string
	// SecretEnv is secret-env: the name of an environment variable holding
	// the deployment secret instead of a file.
	SecretEnv string
	// TrustedCAFile is trusted-ca-file: the PEM certificates an
	// application trusts when it dials another over TLS, and the default
	// client CA of its listener. Empty: the system's roots.
	TrustedCAFile string
}

// DefaultSecretFile is the secret file of a deployment that names none.
const DefaultSecretFile = "secret"

// TLSFiles is an application's tls key: with it, the application's
// listener serves TLS only (TLS 1.2 and later) and its clients dial the
// others with its certificate.
type TLSFiles struct {
	// CertFile is cert-file, required: the PEM certificate chain; its
	// common name is the application's name.
	CertFile string
	// KeyFile is key-file, required: the PEM private key.
	KeyFile string
	// ClientCAFile is client-ca-file: the CAs whose client certificates
	// the listener verifies; empty means trusted-ca-file.
	ClientCAFile string
}

// ClientOptions is a client:<name> section: an external client (not a parley
// application) that proves itself with its client key (parley client-key).
type ClientOptions struct {
	// Type is type: "bot" on a chat server (it joins chats as an External
	// party), "routing" or "reporting" on an interaction server.
	Type string
}

// clientTypes are the client types each application type admits.
var clientTypes = map[AppType][]string{
	ChatServer:        {"bot"},
	InteractionServer: {"routing", "reporting"},
	InteractionProxy:  {"routing", "reporting"},
	StatServer:        {"stat-client"},
}

type fileTLS struct {
	CertFile     string `yaml:"cert-file"`
	KeyFile      string `yaml:"key-file"`
	ClientCAFile string `yaml:"client-ca-file"`
}

// Path returns p as opened: relative paths are under DataDir.
func (d *Deployment) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(d.DataDir, p)
}

// SecretPath returns the file the deployment secret is read from, or ""
// when it comes from SecretEnv.
func (d *Deployment) SecretPath() string {
	if d.Trust.SecretEnv != "" {
		return ""
	}
	if d.Trust.SecretFile == "" {
		return d.Path(DefaultSecretFile)
	}
	return d.Path(d.Trust.SecretFile)
}

func checkTrust(t Trust) []*Error {
	if t.SecretFile != "" && t.SecretEnv != "" {
		return []*Error{{Option: "secret-env", Msg: "give secret-file or secret-env, not both"}}
	}
	return nil
}

// setTLS reads an application's tls key.
func (a *Application) setTLS(f *fileTLS) []*Error {
	if f == nil {
		return nil
	}
	a.TLS = &TLSFiles{CertFile: f.CertFile, KeyFile: f.KeyFile, ClientCAFile: f.ClientCAFile}
	var errs []*Error
	if f.CertFile == "" {
		errs = append(errs, &Error{Section: "tls", Option: "cert-file", Msg: "missing (parley certs makes one)"})
	}
	if f.KeyFile == "" {
		errs = append(errs, &Error{Section: "tls", Option: "key-file", Msg: "missing (parley certs makes one)"})
	}
	return errs
}

// clientSection returns the client:<name> section called name, adding it,
// and whether name is one this application type takes.
func (a *Application) clientSection(name string) (section, bool) {
	key, ok := strings.CutPrefix(name, "client:")
	if !ok || clientTypes[a.Type] == nil {
		return nil, false
	}
	c := &ClientOptions{}
	if a.Clients == nil {
		a.Clients = map[string]*ClientOptions{}
	}
	a.Clients[key] = c
	return section{"type": &c.Type}, true
}

func (a *Application) validateClients() []*Error {
	var errs []*Error
	for _, name := range slices.Sorted(maps.Keys(a.Clients)) {
		c := a.Clients[name]
		errs = append(errs, collect("client:"+name, validKey(name),
			oneOf("type", c.Type, clientTypes[a.Type]...))...)
	}
	return errs
}

// ClientsOf returns the names of app's external clients of type typ, sorted.
func (a *Application) ClientsOf(typ string) []string {
	var names []string
	for _, name := range slices.Sorted(maps.Keys(a.Clients)) {
		if a.Clients[name].Type == typ {
			names = append(names, name)
		}
	}
	return names
}

package cli

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
)

// newTrust builds what application app proves itself with and admits others
// by: the deployment key, its TLS material, and the gate that admits each
// peer in the roles its type and the deployment file's connections give it
// (docs/security.md).
func newTrust(d *config.Deployment, app *config.Application, log *slog.Logger) (*service.Trust, error) {
	key, err := deploymentKey(d)
	if err != nil {
		return nil, fmt.Errorf("application %q: %w", app.Name, err)
	}
	certs, err := loadCerts(d, app)
	if err != nil {
		return nil, fmt.Errorf("application %q: %w", app.Name, err)
	}
	if app.TLS == nil {
		logPlain(app, log)
	}
	return &service.Trust{Name: app.Name, Key: key, Certs: certs,
		Gate: &auth.Gate{Key: key, Policy: policyOf(d, app)}}, nil
}

// logPlain says that app serves without TLS: acceptable on loopback, a
// warning anywhere else.
func logPlain(app *config.Application, log *slog.Logger) {
	host, _, _ := net.SplitHostPort(app.Listen)
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() || host == "localhost" {
		log.Info("serving without TLS on loopback; add a tls key to serve TLS (docs/security.md)")
		return
	}
	log.Warn("serving without TLS on a network address: secure keys and transcripts cross it in clear; add a tls key (docs/security.md)", "listen", app.Listen)
}

// loadCerts reads app's certificate and the deployment's trusted CAs; nil
// when there is neither.
func loadCerts(d *config.Deployment, app *config.Application) (*service.Certs, error) {
	var cert, key, clientCA string
	if t := app.TLS; t != nil {
		cert, key, clientCA = d.Path(t.CertFile), d.Path(t.KeyFile), d.Path(t.ClientCAFile)
	}
	trusted := d.Path(d.Trust.TrustedCAFile)
	if cert == "" && trusted == "" {
		return nil, nil
	}
	return service.LoadCerts(cert, key, clientCA, trusted)
}

// policyOf returns who app admits, in which roles, as the deployment file
// connects them (directly, or through an application cluster): the web
// APIs connected to a chat server (or to the primary it is the backup of)
// as web APIs and agent bridges, the other chat servers as peers, the
// interaction servers a chat server reaches (directly or through proxies)
// as ESP clients, the chat servers connected to an interaction server or
// proxy as media servers, the web APIs connected to it as agent bridges and
// the stat servers as reporting clients, the proxies connected to an
// interaction server's node as proxies, the web APIs connected to a stat
// server as its clients and the other of its pair as its peer, and each
// server's client:<name> clients in their type.
func policyOf(d *config.Deployment, app *config.Application) *auth.Policy {
	p := auth.NewPolicy(app.Name)
	ixnLike := app.Type == config.InteractionServer || app.Type == config.InteractionProxy
	for _, peer := range d.Applications {
		// A backup admits the peers connected to its primary.
		connected := d.Reaches(peer, app.Name) ||
			app.Type == config.ChatServer && slices.Contains(peer.Connections, d.PrimaryOf(app.Name))
		switch {
		case app.Type == config.ChatServer && peer.Type == config.WebAPI && connected:
			p.Allow(peer.Name, auth.RoleWebAPI, auth.RoleAgent)
		case app.Type == config.ChatServer && peer.Type == config.ChatServer && peer != app:
			p.Allow(peer.Name, auth.RoleChatPeer)
		case app.Type == config.ChatServer && peer.Type == config.InteractionServer && d.ServesChat(peer, app):
			p.Allow(peer.Name, auth.RoleESP)
		case ixnLike && peer.Type == config.ChatServer && connected:
			p.Allow(peer.Name, auth.RoleMediaServer)
		case ixnLike && peer.Type == config.WebAPI && connected:
			p.Allow(peer.Name, auth.RoleAgent)
		case ixnLike && peer.Type == config.StatServer && connected:
			p.Allow(peer.Name, auth.RoleReporting)
		case app.Type == config.InteractionServer && peer.Type == config.InteractionProxy && d.ReachesNode(peer, app.Name):
			p.Allow(peer.Name, auth.RoleInteractionProxy)
		case app.Type == config.StatServer && peer.Type == config.WebAPI && connected:
			p.Allow(peer.Name, auth.RoleStatClient)
		case app.Type == config.StatServer && peer.Type == config.StatServer &&
			(d.StatPrimary(app) == peer || d.StatBackup(app) == peer):
			p.Allow(peer.Name, auth.RoleStatPeer)
		}
	}
	for name, c := range app.Clients {
		p.AllowClient(name, auth.Role(c.Type))
	}
	return p
}

// endpoint returns how applications reach the application called name.
func endpoint(d *config.Deployment, name string) service.Endpoint {
	app := d.Applications[name]
	return service.Endpoint{Name: name, Addr: dialAddr(app.Listen), TLS: app.TLS != nil}
}

// endpointsOf returns the endpoints of d's applications of type t, by name.
func endpointsOf(d *config.Deployment, t config.AppType) map[string]service.Endpoint {
	eps := make(map[string]service.Endpoint)
	for name, app := range d.Applications {
		if app.Type == t {
			eps[name] = endpoint(d, name)
		}
	}
	return eps
}

// deploymentKey reads the deployment secret from secret-env or the secret
// file. The default file (<data-dir>/secret) is created on first use, so
// that a deployment on one host needs no setup; a secret-file the
// administrator named must exist.
func deploymentKey(d *config.Deployment) (auth.Key, error) {
	if env := d.Trust.SecretEnv; env != "" {
		v, ok := os.LookupEnv(env)
		if !ok {
			return auth.Key{}, fmt.Errorf("secret-env: the environment variable %s is not set", env)
		}
		return parseSecret([]byte(v), "secret-env "+env)
	}
	path := d.SecretPath()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && d.Trust.SecretFile == "" {
		data, err = createSecret(path)
	}
	if err != nil {
		return auth.Key{}, fmt.Errorf("deployment secret: %w", err)
	}
	return parseSecret(data, path)
}

func parseSecret(data []byte, where string) (auth.Key, error) {
	key, err := auth.NewKey(bytes.TrimSpace(data))
	if err != nil {
		return auth.Key{}, fmt.Errorf("deployment secret in %s: %w", where, err)
	}
	return key, nil
}

// createSecret writes a new random secret at path, readable by its owner
// only, unless another process got there first: the file appears whole or
// not at all (a hard link of a complete temporary file), and whoever loses
// the race reads the winner's.
func createSecret(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	secret := []byte(base64.RawURLEncoding.EncodeToString(b) + "\n")
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(secret); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return os.ReadFile(path)
	} else if err != nil {
		return nil, err
	}
	return secret, nil
}

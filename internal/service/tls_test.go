package service_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/settle"
	"github.com/parley-chat/parley/internal/wire"
)

// ca is a test certificate authority.
type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // its certificate, PEM
}

var serial = struct {
	sync.Mutex
	n int64
}{n: 100}

func nextSerial() *big.Int {
	serial.Lock()
	defer serial.Unlock()
	serial.n++
	return big.NewInt(serial.n)
}

func newCA(t *testing.T, name string) *ca {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	file := filepath.Join(t.TempDir(), name+".pem")
	writePEM(t, file, "CERTIFICATE", der)
	return &ca{cert: cert, key: key, file: file}
}

// issued is a certificate's files and serial number.
type issued struct {
	certFile, keyFile string
	serial            *big.Int
}

// issue signs a certificate for the application name (its CommonName, and
// 127.0.0.1 as SAN) valid from notBefore to notAfter; a nil c self-signs.
func (c *ca) issue(t *testing.T, name string, notBefore, notAfter time.Time) issued {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: name},
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{name},
	}
	parent, signer := tmpl, key
	if c != nil {
		parent, signer = c.cert, c.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := issued{certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"), serial: tmpl.SerialNumber}
	writePEM(t, out.certFile, "CERTIFICATE", der)
	writePEM(t, out.keyFile, "PRIVATE KEY", keyDER)
	return out
}

func (c *ca) valid(t *testing.T, name string) issued {
	return c.issue(t, name, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
}

func writePEM(t *testing.T, file, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func loadCerts(t *testing.T, is issued, trusted string) *service.Certs {
	t.Helper()
	c, err := service.LoadCerts(is.certFile, is.keyFile, "", trusted)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tlsServer serves wire connections over TLS with certs, each guarded by
// trust for RoleMediaServer; the admitted handler answers with the identity.
func tlsServer(t *testing.T, certs *service.Certs, trust *service.Trust) *httptest.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := wire.Accept(w, r, wire.Options{})
		if err != nil {
			return
		}
		h := trust.Guard(c, r, []auth.Role{auth.RoleMediaServer}, func(id auth.Identity) wire.Handler {
			return wire.HandlerFunc(func(_ context.Context, c *wire.Conn, m wire.Message) {
				_ = c.Reply(m, wire.EventAck, id)
			})
		})
		wg.Go(func() { _ = c.Serve(ctx, h) })
	}))
	s.TLS = certs.ServerConfig()
	s.StartTLS()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		s.Close()
	})
	return s
}

// dialWire connects to s with tlsConf and serves the client side until the
// test ends.
func dialWire(t *testing.T, s *httptest.Server, tlsConf *tls.Config) (*wire.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	c, err := wire.Dial(ctx, "wss"+strings.TrimPrefix(s.URL, "https"), wire.Options{TLS: tlsConf})
	if err != nil {
		cancel()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Serve(ctx, wire.HandlerFunc(func(context.Context, *wire.Conn, wire.Message) {}))
	}()
	t.Cleanup(func() { cancel(); <-done })
	return c, nil
}

func testKey(t *testing.T) auth.Key {
	k, err := auth.NewKey([]byte("correct horse battery staple"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestTLSOpeningExchange(t *testing.T) {
	root := newCA(t, "parley-ca")
	stranger := newCA(t, "other-ca")
	key := testKey(t)
	policy := auth.NewPolicy("ixn1")
	policy.Allow("chat1", auth.RoleMediaServer)
	policy.Allow("chat2", auth.RoleMediaServer)
	serverCerts := loadCerts(t, root.valid(t, "ixn1"), root.file)

	tests := []struct {
		name     string
		cert     issued // the client's; zero: none
		claim    string
		key      auth.Key
		wantCert bool      // admitted by the certificate
		wantCode wire.Code // refused in the exchange
		dialErr  bool      // refused by TLS
	}{
		{name: "certificate naming the client", cert: root.valid(t, "chat1"), claim: "chat1", wantCert: true},
		{name: "certificate and key", cert: root.valid(t, "chat1"), claim: "chat1", key: key, wantCert: true},
		{name: "no certificate, key", claim: "chat1", key: key},
		{name: "certificate naming another application", cert: root.valid(t, "chat2"), claim: "chat1", key: key,
			wantCode: wire.CodeAuthFailed},
		{name: "self-signed certificate", cert: (*ca)(nil).valid(t, "chat1"), claim: "chat1", dialErr: true},
		{name: "certificate of another CA", cert: stranger.valid(t, "chat1"), claim: "chat1", dialErr: true},
		{name: "expired client certificate", cert: root.issue(t, "chat1", time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour)),
			claim: "chat1", dialErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settle.NoLeaks(t)
			s := tlsServer(t, serverCerts, &service.Trust{Name: "ixn1", Key: key, Certs: serverCerts,
				Gate: &auth.Gate{Key: key, Policy: policy}})
			clientCerts := loadCerts(t, tt.cert, root.file)
			c, err := dialWire(t, s, clientCerts.ClientConfig())
			if tt.dialErr {
				if err == nil {
					t.Fatal("dial succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			trust := &service.Trust{Name: tt.claim, Key: tt.key, Certs: clientCerts}
			err = trust.Handshake(context.Background(), c, service.Endpoint{Name: "ixn1", TLS: true})
			if tt.wantCode != 0 {
				var werr *wire.Error
				if !errors.As(err, &werr) || werr.Code != tt.wantCode {
					t.Fatalf("Handshake = %v, want code %d", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("Handshake = %v", err)
			}
			var id auth.Identity
			if _, err := c.Request(context.Background(), wire.RequestRegisterClient, nil, &id); err != nil {
				t.Fatal(err)
			}
			if id.Name != tt.claim || id.Certificate != tt.wantCert {
				t.Fatalf("admitted as %+v", id)
			}
		})
	}
}

// handshake dials addr with conf and returns the server certificate's
// serial number.
func handshake(addr string, conf *tls.Config) (*big.Int, error) {
	d := tls.Dialer{Config: conf}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.(*tls.Conn).ConnectionState().PeerCertificates[0].SerialNumber, nil
}

func TestTLSServerCertificate(t *testing.T) {
	root := newCA(t, "parley-ca")
	pool := x509.NewCertPool()
	pool.AddCert(root.cert)
	tests := []struct {
		name    string
		cert    issued
		client  *tls.Config
		wantErr bool
	}{
		{"valid", root.valid(t, "ixn1"), &tls.Config{RootCAs: pool}, false},
		{"TLS 1.2 client", root.valid(t, "ixn1"), &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12}, false},
		{"TLS 1.1 client", root.valid(t, "ixn1"), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, true},
		{"expired", root.issue(t, "ixn1", time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour)), &tls.Config{RootCAs: pool}, true},
		{"not yet valid", root.issue(t, "ixn1", time.Now().Add(time.Hour), time.Now().Add(2*time.Hour)), &tls.Config{RootCAs: pool}, true},
		{"self-signed", (*ca)(nil).valid(t, "ixn1"), &tls.Config{RootCAs: pool}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settle.NoLeaks(t)
			certs := loadCerts(t, tt.cert, root.file)
			trust := &service.Trust{Name: "ixn1", Certs: certs, Gate: &auth.Gate{Policy: auth.NewPolicy("ixn1")}}
			s := tlsServer(t, certs, trust)
			_, err := handshake(s.Listener.Addr().String(), tt.client)
			if (err != nil) != tt.wantErr {
				t.Fatalf("handshake = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr {
				return
			}
			// A parley client dialling the same server fails too.
			client := loadCerts(t, issued{}, root.file)
			if tt.client.MaxVersion == 0 {
				if _, err := dialWire(t, s, client.ClientConfig()); err == nil {
					t.Fatal("wire dial succeeded")
				}
			}
		})
	}
}

func TestCertsReload(t *testing.T) {
	settle.NoLeaks(t)
	root := newCA(t, "parley-ca")
	first, second := root.valid(t, "ixn1"), root.valid(t, "ixn1")
	dir := t.TempDir()
	live := issued{certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem")}
	install := func(is issued) {
		for from, to := range map[string]string{is.certFile: live.certFile, is.keyFile: live.keyFile} {
			b, err := os.ReadFile(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(to, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	install(first)
	certs := loadCerts(t, live, root.file)
	s := tlsServer(t, certs, &service.Trust{Name: "ixn1", Certs: certs, Gate: &auth.Gate{Policy: auth.NewPolicy("ixn1")}})
	addr := s.Listener.Addr().String()
	client := loadCerts(t, issued{}, root.file).ClientConfig()
	serialIs := func(what string, want *big.Int) {
		t.Helper()
		got, err := handshake(addr, client)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got.Cmp(want) != 0 {
			t.Fatalf("%s: serial %v, want %v", what, got, want)
		}
	}
	serialIs("before reload", first.serial)

	install(second)
	serialIs("changed files not reloaded yet", first.serial)
	if err := certs.Reload(); err != nil {
		t.Fatal(err)
	}
	serialIs("after reload", second.serial)

	bad := []struct {
		name   string
		break_ func()
	}{
		{"garbage certificate", func() { _ = os.WriteFile(live.certFile, []byte("garbage"), 0o600) }},
		{"key of another certificate", func() { install(second); b, _ := os.ReadFile(first.keyFile); _ = os.WriteFile(live.keyFile, b, 0o600) }},
		{"missing key", func() { install(second); _ = os.Remove(live.keyFile) }},
	}
	for _, b := range bad {
		b.break_()
		if err := certs.Reload(); err == nil {
			t.Fatalf("%s: Reload succeeded", b.name)
		}
		serialIs(b.name+": failed reload keeps the old", second.serial)
	}
}

func TestLoadCertsRefuses(t *testing.T) {
	root := newCA(t, "parley-ca")
	good := root.valid(t, "ixn1")
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                           string
		cert, key, clientCA, trustedCA string
	}{
		{"missing certificate", "/nonexistent/cert.pem", good.keyFile, "", ""},
		{"key and certificate swapped", good.keyFile, good.certFile, "", ""},
		{"garbage trusted CA", good.certFile, good.keyFile, "", garbage},
		{"garbage client CA", good.certFile, good.keyFile, garbage, root.file},
		{"missing trusted CA", "", "", "", "/nonexistent/ca.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := service.LoadCerts(tt.cert, tt.key, tt.clientCA, tt.trustedCA); err == nil {
				t.Fatal("LoadCerts succeeded")
			}
		})
	}
	plain, err := service.LoadCerts("", "", "", root.file)
	if err != nil || plain.Serves() {
		t.Fatalf("trust-only certs: serves %v, %v", plain != nil && plain.Serves(), err)
	}
}

// TestClientConfigFollowsTrustedCA checks that a client configuration made
// once (a reconnecting client's) trusts the CAs of the latest Reload.
func TestClientConfigFollowsTrustedCA(t *testing.T) {
	settle.NoLeaks(t)
	oldRoot, newRoot := newCA(t, "old-ca"), newCA(t, "new-ca")
	trusted := filepath.Join(t.TempDir(), "trusted.pem")
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(oldRoot.file, trusted)
	client := loadCerts(t, issued{}, trusted)
	conf := client.ClientConfig()
	serve := func(root *ca) string {
		certs := loadCerts(t, root.valid(t, "ixn1"), root.file)
		s := tlsServer(t, certs, &service.Trust{Name: "ixn1", Certs: certs, Gate: &auth.Gate{Policy: auth.NewPolicy("ixn1")}})
		return s.Listener.Addr().String()
	}
	oldServer, newServer := serve(oldRoot), serve(newRoot)
	if _, err := handshake(oldServer, conf); err != nil {
		t.Fatalf("server of the trusted CA: %v", err)
	}
	if _, err := handshake(newServer, conf); err == nil {
		t.Fatal("server of an untrusted CA admitted")
	}
	copyFile(newRoot.file, trusted)
	if err := client.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := handshake(newServer, conf); err != nil {
		t.Fatalf("server of the CA trusted since the reload: %v", err)
	}
	if _, err := handshake(oldServer, conf); err == nil {
		t.Fatal("server of the CA no longer trusted admitted")
	}
	// The name is checked as before: a certificate for another host fails.
	other := loadCerts(t, issued{}, trusted).ClientConfig()
	other.ServerName = "somewhere-else.example"
	if _, err := handshake(newServer, other); err == nil {
		t.Fatal("certificate accepted for another host name")
	}
}

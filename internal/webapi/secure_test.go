package webapi_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/service"
	"github.com/parley-chat/parley/internal/transcript"
)

// secure is the TLS and authentication of a test deployment: a CA that
// issues every application's certificate, trusted by all of them, and the
// deployment key with which they prove themselves and sign grants.
type secure struct {
	t      testing.TB
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caFile string // the CA's certificate, PEM: what node and the applications trust
	key    auth.Key
}

var certSerial atomic.Int64

// newSecure makes a test CA and a deployment key.
func newSecure(t testing.TB) *secure {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(certSerial.Add(1)), Subject: pkix.Name{CommonName: "parley test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	key, err := auth.NewKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	s := &secure{t: t, ca: ca, caKey: caKey, caFile: filepath.Join(t.TempDir(), "ca.pem"), key: key}
	s.writePEM(s.caFile, "CERTIFICATE", der)
	return s
}

// trust returns the Trust of the application name: a certificate of the CA
// naming it (and 127.0.0.1) that it serves and dials with, the CA as its
// only trusted root, the deployment key, and a gate admitting each peer of
// allow in its roles.
func (s *secure) trust(name string, allow map[string][]auth.Role) *service.Trust {
	s.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		s.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(certSerial.Add(1)), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{name},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.ca, &key.PublicKey, s.caKey)
	if err != nil {
		s.t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		s.t.Fatal(err)
	}
	dir := s.t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	s.writePEM(certFile, "CERTIFICATE", der)
	s.writePEM(keyFile, "PRIVATE KEY", keyDER)
	certs, err := service.LoadCerts(certFile, keyFile, "", s.caFile)
	if err != nil {
		s.t.Fatal(err)
	}
	policy := auth.NewPolicy(name)
	for peer, roles := range allow {
		policy.Allow(peer, roles...)
	}
	return &service.Trust{Name: name, Key: s.key, Certs: certs, Gate: &auth.Gate{Key: s.key, Policy: policy}}
}

// grant signs what the interaction server would give agent personID to
// join session as an Agent party.
func (s *secure) grant(session, personID string) string {
	return s.key.SignGrant(auth.Grant{Agent: personID, Session: session, PartyType: string(transcript.Agent),
		Visibility: string(transcript.VisAll), Expires: time.Now().Add(auth.DefaultGrantTTL)})
}

func (s *secure) writePEM(file, typ string, der []byte) {
	s.t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

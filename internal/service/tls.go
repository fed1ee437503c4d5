package service

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// Certs is an application's TLS material, read from PEM files and re-read
// by Reload (on SIGHUP): the listener and every dial use the new
// certificates from then on, open connections keep theirs.
type Certs struct {
	certFile, keyFile, clientCAFile, trustedCAFile string

	cert      atomic.Pointer[tls.Certificate] // nil without cert-file
	clientCAs atomic.Pointer[x509.CertPool]   // nil: trustedCAs
	roots     atomic.Pointer[x509.CertPool]   // nil: the system's roots
}

// LoadCerts reads the certificate and key (both empty: the application
// serves and dials in plain text and only trusts), the CAs whose client
// certificates the listener verifies (empty: trustedCAFile) and the CAs
// trusted when dialling (empty: the system's roots).
func LoadCerts(certFile, keyFile, clientCAFile, trustedCAFile string) (*Certs, error) {
	c := &Certs{certFile: certFile, keyFile: keyFile, clientCAFile: clientCAFile, trustedCAFile: trustedCAFile}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload re-reads every file; on any error nothing changes.
func (c *Certs) Reload() error {
	var cert *tls.Certificate
	if c.certFile != "" {
		kp, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
		if err != nil {
			return fmt.Errorf("service: tls certificate: %w", err)
		}
		cert = &kp
	}
	roots, err := loadPool(c.trustedCAFile)
	if err != nil {
		return fmt.Errorf("service: trusted-ca-file: %w", err)
	}
	clientCAs, err := loadPool(c.clientCAFile)
	if err != nil {
		return fmt.Errorf("service: client-ca-file: %w", err)
	}
	c.cert.Store(cert)
	c.roots.Store(roots)
	c.clientCAs.Store(clientCAs)
	return nil
}

var errNoCerts = errors.New("no certificate in the file")

func loadPool(file string) (*x509.CertPool, error) {
	if file == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: %w", file, errNoCerts)
	}
	return pool, nil
}

// Serves reports whether the application serves TLS.
func (c *Certs) Serves() bool { return c != nil && c.cert.Load() != nil }

// ServerConfig returns the listener's configuration: TLS 1.2 and later, the
// current certificate, and a client certificate verified when one is given
// (the peer's name then comes from it; without one the peer proves itself
// in the opening exchange). Browsers are never asked for one they lack.
func (c *Certs) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			cas := c.clientCAs.Load()
			if cas == nil {
				cas = c.roots.Load()
			}
			auth := tls.VerifyClientCertIfGiven
			if cas == nil {
				auth = tls.NoClientCert
			}
			return &tls.Config{
				MinVersion:   tls.VersionTLS12,
				Certificates: []tls.Certificate{*c.cert.Load()},
				ClientCAs:    cas,
				ClientAuth:   auth,
				NextProtos:   []string{"http/1.1"},
			}, nil
		},
	}
}

// ClientConfig returns the configuration of a dial: the trusted roots, and
// the application's certificate as its client certificate when it has one.
// Both are read at each handshake, so that a configuration made once (a
// reconnecting client's) follows Reload.
func (c *Certs) ClientConfig() *tls.Config {
	if c == nil {
		return nil
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The chain is verified by verifyServer against the roots of the
		// moment; crypto/tls's own check would keep the roots of the
		// configuration's making.
		InsecureSkipVerify: true,
		VerifyConnection:   c.verifyServer,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if cert := c.cert.Load(); cert != nil {
				return cert, nil
			}
			return &tls.Certificate{}, nil // none: the server asks for a proof instead
		},
	}
}

// verifyServer does what crypto/tls does for a client without
// InsecureSkipVerify: the server's chain must lead to a trusted root (the
// system's without trusted-ca-file) and name the host dialled.
func (c *Certs) verifyServer(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("service: the server sent no certificate")
	}
	opts := x509.VerifyOptions{Roots: c.roots.Load(), DNSName: cs.ServerName, Intermediates: x509.NewCertPool()}
	for _, cert := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(cert)
	}
	if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
		return fmt.Errorf("service: server certificate: %w", err)
	}
	return nil
}

package cli

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/config"
)

// Validity periods of what certs makes.
const (
	// caYears is how long a new deployment CA is valid.
	caYears = 10
	// defaultCertDays is how long an application's or a client's
	// certificate is valid unless --days says otherwise: the longest
	// browsers accept for a server certificate.
	defaultCertDays = 397
	// certBackdate covers clocks a little behind the one that made a
	// certificate.
	certBackdate = time.Hour
)

// Names of the deployment CA's files in the certificate directory.
const (
	caCertFile = "ca.pem"
	caKeyFile  = "ca-key.pem"
)

// certsCommand returns the certs command and its usage text.
func certsCommand() *command {
	return &command{
		name:     "certs",
		synopsis: "[--config FILE] [--out DIR] [--days N] [--client NAME,...]",
		summary:  "make a deployment CA and a TLS certificate per application",
		doc: `Certs is for administrators without a PKI. It makes a deployment CA (ECDSA
P-256, valid 10 years) in DIR/ca.pem and DIR/ca-key.pem, or reuses the one
already there (an existing CA key is never overwritten), and signs with it a
certificate for every application of the deployment: DIR/<app>.pem and
DIR/<app>-key.pem, common name the application's name, valid for both
server and client authentication, with the application's name and the host
of its listen address as subject alternative names (a wildcard host, 0.0.0.0
or ::, gives 127.0.0.1, ::1 and localhost). Running it again re-issues the
application certificates under the same CA. --client makes client
certificates (client authentication only) for the external clients declared
as client:<name> sections. Private keys are written readable by their owner
only; keep ca-key.pem off the application hosts. Certs does not change the
deployment file: it prints the trusted-ca-file and tls keys to add to it.`,
		example: "parley certs --config deploy/postgres.yaml --client bot-1",
		setup: func(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
			file := configFlag(fs)
			out := fs.String("out", "", "write the certificates in `DIR` (default <data-dir>/certs)")
			days := fs.Int("days", defaultCertDays, "the application and client certificates are valid for `N` days")
			var clients nameList
			fs.Var(&clients, "client", "also make a client certificate for the external client `NAME` (repeatable, or a comma-separated list)")
			return func(_ context.Context, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				if *days < 1 {
					return usageErrorf("--days %d: want 1 or more", *days)
				}
				return c.certs(*file, *out, *days, clients)
			}
		},
	}
}

// nameList is a flag holding names, given as repeated flags or comma lists.
type nameList []string

func (l *nameList) String() string { return strings.Join(*l, ",") }

func (l *nameList) Set(s string) error {
	for name := range strings.SplitSeq(s, ",") {
		if name = strings.TrimSpace(name); name == "" {
			return errors.New("empty name")
		}
		*l = append(*l, name)
	}
	return nil
}

func (c *cli) certs(file, out string, days int, clients []string) error {
	d, err := loadDeployment(file)
	if err != nil {
		return err
	}
	dir := cmp.Or(out, d.Path("certs"))
	if dir, err = filepath.Abs(dir); err != nil {
		return fmt.Errorf("certs: --out %s: %w", out, err)
	}
	files, err := writeCerts(d, dir, days, clients...)
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	c.printCerts(d, files)
	return nil
}

// clientKeyCommand returns the client-key command and its usage text.
func clientKeyCommand() *command {
	return &command{
		name:     "client-key",
		synopsis: "[--config FILE] --name NAME",
		summary:  "print the key an external client proves itself with",
		doc: `Client-key prints the key of the external client NAME (a bot, a routing or a
reporting client), which must be declared as a client:NAME section of a chat
or interaction server of the deployment. The client proves itself with it in
the wire protocol's opening exchange. The key is derived from the deployment
secret: give it to the client's operator only, over a private channel.
Removing the client:NAME sections revokes it; changing the deployment secret
changes every client's key. Like admin-token, run it where the deployment
secret is.`,
		example: "parley client-key --config deploy/postgres.yaml --name bot-1 > bot-1.key",
		setup: func(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
			file := configFlag(fs)
			name := fs.String("name", "", "the client's `NAME`, as in its client:NAME section (required)")
			return func(_ context.Context, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				if *name == "" {
					return usageErrorf("--name is required")
				}
				return c.clientKey(*file, *name)
			}
		},
	}
}

func (c *cli) clientKey(file, name string) error {
	d, err := loadDeployment(file)
	if err != nil {
		return err
	}
	if err := checkClient(d, name); err != nil {
		return fmt.Errorf("client-key: %w", err)
	}
	key, err := deploymentKey(d)
	if err != nil {
		return fmt.Errorf("client-key: %w", err)
	}
	fmt.Fprintln(c.stdout, key.ClientKey(name).Encode())
	return nil
}

// checkClient returns an error naming d's file unless some chat or
// interaction server of d declares client:<name>.
func checkClient(d *config.Deployment, name string) error {
	for _, app := range d.Applications {
		if app.Clients[name] != nil {
			return nil
		}
	}
	return fmt.Errorf("%s: no chat or interaction server declares client:%s", cmp.Or(d.File, embeddedFile), name)
}

// adminTokenCommand returns the admin-token command and its usage text.
func adminTokenCommand() *command {
	return &command{
		name:     "admin-token",
		synopsis: "[--config FILE]",
		summary:  "print the admin credential for /admin/*, /kpi and /metrics",
		doc: `Admin-token prints the deployment's admin credential, derived from the
deployment secret. Send it as "Authorization: Bearer <token>" to /admin/*,
/kpi and /metrics of any application of the deployment:
  curl -H "Authorization: Bearer $(cat admin.token)" https://HOST:PORT/kpi
Run it where the deployment secret is (secret-file or secret-env; without
them <data-dir>/secret, made if missing, as up and run do). Changing the
deployment secret changes the token.`,
		example: "parley admin-token --config deploy/postgres.yaml > admin.token",
		setup: func(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
			file := configFlag(fs)
			return func(_ context.Context, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				return c.adminToken(*file)
			}
		},
	}
}

func (c *cli) adminToken(file string) error {
	d, err := loadDeployment(file)
	if err != nil {
		return err
	}
	key, err := deploymentKey(d)
	if err != nil {
		return fmt.Errorf("admin-token: %w", err)
	}
	fmt.Fprintln(c.stdout, key.AdminToken())
	return nil
}

// certFiles are the files writeCerts wrote, as absolute paths.
type certFiles struct {
	CA    string // the deployment CA's certificate: trusted-ca-file
	CAKey string // its private key
	NewCA bool   // the CA was made by this call, not reused
	// Apps are the certificates of the deployment's applications, by name.
	Apps map[string]certPair
	// Clients are the client certificates of external clients, by name.
	Clients map[string]certPair
}

// certPair is a certificate file and its private key file.
type certPair struct{ Cert, Key string }

// writeCerts makes, in dir, the deployment CA (or reuses the one there)
// and signs with it a certificate valid for days for every application of
// d (server and client authentication, the name and listen host as SANs)
// and a client certificate for each of clients, which must be declared as
// client:<name> on some chat or interaction server of d. Application and
// client certificates already in dir are replaced; the CA key never is.
func writeCerts(d *config.Deployment, dir string, days int, clients ...string) (certFiles, error) {
	if days < 1 {
		return certFiles{}, fmt.Errorf("validity of %d days: want 1 or more", days)
	}
	for _, name := range clients {
		if err := checkClient(d, name); err != nil {
			return certFiles{}, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return certFiles{}, err
	}
	now := time.Now()
	files := certFiles{CA: filepath.Join(dir, caCertFile), CAKey: filepath.Join(dir, caKeyFile),
		Apps: map[string]certPair{}, Clients: map[string]certPair{}}
	ca, created, err := loadOrCreateCA(files.CA, files.CAKey, now)
	if err != nil {
		return certFiles{}, err
	}
	files.NewCA = created
	for _, name := range d.Names() {
		tmpl := leafTemplate(name, now, days, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
		tmpl.DNSNames, tmpl.IPAddresses = listenSANs(name, d.Applications[name].Listen)
		if files.Apps[name], err = ca.issue(tmpl, dir, name); err != nil {
			return certFiles{}, fmt.Errorf("application %q: %w", name, err)
		}
	}
	for _, name := range clients {
		tmpl := leafTemplate(name, now, days, x509.ExtKeyUsageClientAuth)
		if files.Clients[name], err = ca.issue(tmpl, dir, name); err != nil {
			return certFiles{}, fmt.Errorf("client %q: %w", name, err)
		}
	}
	return files, nil
}

// certAuthority is the deployment CA, which signs the certificates.
type certAuthority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// loadOrCreateCA reads the CA from certFile and keyFile, or makes a new one
// when neither exists, and reports whether it made it. Half a CA (one file
// without the other) is an error: a key is never overwritten.
func loadOrCreateCA(certFile, keyFile string, now time.Time) (*certAuthority, bool, error) {
	_, certErr := os.Stat(certFile)
	_, keyErr := os.Stat(keyFile)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		ca, err := newCA(certFile, keyFile, now)
		return ca, err == nil, err
	case errors.Is(keyErr, fs.ErrNotExist):
		return nil, false, fmt.Errorf("%s exists without %s: restore the key, or move %s away to make a new CA", certFile, keyFile, certFile)
	case errors.Is(certErr, fs.ErrNotExist):
		return nil, false, fmt.Errorf("%s exists without %s: restore the certificate, or move %s away to make a new CA", keyFile, certFile, keyFile)
	}
	ca, err := loadCA(certFile, keyFile)
	if err != nil {
		return nil, false, err
	}
	if now.After(ca.cert.NotAfter) {
		return nil, false, fmt.Errorf("%s expired on %s: move %s and %s away to make a new CA", certFile, ca.cert.NotAfter.Format(time.DateOnly), certFile, keyFile)
	}
	return ca, false, nil
}

// newCA makes a deployment CA and writes it; the key file must not exist.
func newCA(certFile, keyFile string, now time.Time) (*certAuthority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serialNumber(),
		Subject:               pkix.Name{CommonName: "parley deployment CA", Organization: []string{"parley"}},
		NotBefore:             now.Add(-certBackdate),
		NotAfter:              now.AddDate(caYears, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	if err := writeNewFile(keyFile, keyPEM); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(certFile, encodeCert(der), 0o644); err != nil {
		return nil, err
	}
	return &certAuthority{cert: cert, key: key}, nil
}

// loadCA reads a CA written by newCA and checks that its key is the
// certificate's.
func loadCA(certFile, keyFile string) (*certAuthority, error) {
	cert, err := readCert(certFile)
	if err != nil {
		return nil, err
	}
	key, err := readKey(keyFile)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("%s: not a CA certificate", certFile)
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(key.Public()) {
		return nil, fmt.Errorf("%s is not the key of %s", keyFile, certFile)
	}
	return &certAuthority{cert: cert, key: key}, nil
}

// issue signs a new key's certificate from tmpl and writes it in dir as
// <name>.pem and <name>-key.pem.
func (ca *certAuthority) issue(tmpl *x509.Certificate, dir, name string) (certPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return certPair{}, err
	}
	if tmpl.NotAfter.After(ca.cert.NotAfter) {
		tmpl.NotAfter = ca.cert.NotAfter // never outlive the CA
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return certPair{}, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return certPair{}, err
	}
	p := certPair{Cert: filepath.Join(dir, name+".pem"), Key: filepath.Join(dir, name+"-key.pem")}
	if err := writeFileAtomic(p.Key, keyPEM, 0o600); err != nil {
		return certPair{}, err
	}
	if err := writeFileAtomic(p.Cert, encodeCert(der), 0o644); err != nil {
		return certPair{}, err
	}
	return p, nil
}

// leafTemplate returns the template of an application's or client's
// certificate: common name name, valid for days from now, for usages.
func leafTemplate(name string, now time.Time, days int, usages ...x509.ExtKeyUsage) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber:          serialNumber(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"parley"}},
		NotBefore:             now.Add(-certBackdate),
		NotAfter:              now.AddDate(0, 0, days),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           usages,
		BasicConstraintsValid: true,
	}
}

// listenSANs returns the subject alternative names of the application
// called name listening on listen: its name, and the host it is dialled at
// (a wildcard or empty host: the loopback addresses and localhost).
func listenSANs(name, listen string) (dns []string, ips []net.IP) {
	dns = []string{name}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		host = listen
	}
	host = strings.Trim(host, "[]")
	switch ip := net.ParseIP(host); {
	case host == "" || ip != nil && ip.IsUnspecified():
		return append(dns, "localhost"), []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	case ip != nil:
		return dns, []net.IP{ip}
	case host != name:
		dns = append(dns, host)
	}
	return dns, nil
}

// serialNumber returns a random 128-bit serial number.
func serialNumber() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128)) // never fails (crypto/rand)
	return n
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// readCert reads the first certificate of a PEM file.
func readCert(file string) (*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type == "CERTIFICATE" {
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			return cert, nil
		}
	}
	return nil, fmt.Errorf("%s: no certificate in the file", file)
}

// readKey reads an ECDSA private key, PKCS #8 or SEC 1, from a PEM file.
func readKey(file string) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM private key in the file", file)
	}
	if block.Type == "EC PRIVATE KEY" {
		key, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return key, nil
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an ECDSA private key", file)
	}
	return key, nil
}

// writeNewFile writes data to path, readable by its owner only, unless
// path exists: it appears whole or not at all (a hard link of a complete
// temporary file).
func writeNewFile(path string, data []byte) error {
	tmp, err := writeTemp(path, data, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeFileAtomic replaces path with data, with mode perm whatever the
// mode of the file it replaces.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// writeTemp writes data to a new temporary file beside path, with mode
// perm, and returns its name.
func writeTemp(path string, data []byte, perm fs.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	err = errors.Join(err, f.Chmod(perm), f.Close())
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// printCerts tells the administrator what certs wrote and the keys to add
// to the deployment file, with paths relative to data-dir where they can
// be.
func (c *cli) printCerts(d *config.Deployment, files certFiles) {
	w := c.stdout
	verb := "reused"
	if files.NewCA {
		verb = "made"
	}
	fmt.Fprintf(w, "Deployment CA %s: %s (keep %s secret, off the application hosts)\n", verb, files.CA, filepath.Base(files.CAKey))
	for _, name := range d.Names() {
		fmt.Fprintf(w, "Certificate of %s: %s\n", name, files.Apps[name].Cert)
	}
	for _, name := range slices.Sorted(maps.Keys(files.Clients)) {
		p := files.Clients[name]
		fmt.Fprintf(w, "Client certificate of %s: %s and %s (give them and %s to its operator)\n", name, p.Cert, p.Key, filepath.Base(files.CA))
	}
	target := d.File
	if target == "" || target == embeddedFile {
		target = "your copy of deploy/embedded.yaml (the embedded deployment cannot change)"
	}
	fmt.Fprintf(w, "\nAdd to %s, each tls key in its application's entry (parley certs does not change the file):\n\n", target)
	fmt.Fprintf(w, "trusted-ca-file: %s\napplications:\n", dataRel(d, files.CA))
	for _, name := range d.Names() {
		p := files.Apps[name]
		fmt.Fprintf(w, "  %s:\n    tls: {cert-file: %s, key-file: %s}\n", name, dataRel(d, p.Cert), dataRel(d, p.Key))
	}
}

// dataRel returns path relative to d's data-dir when it is under it, as the
// deployment file reads it; otherwise path itself.
func dataRel(d *config.Deployment, path string) string {
	rel, err := filepath.Rel(d.DataDir, path)
	if err != nil || !filepath.IsLocal(rel) {
		return path
	}
	return rel
}

package cli

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/service"
)

// testSecret is the deployment secret of certsDeployment.
const testSecret = "0123456789abcdef-test-secret"

// certsDeployment writes a deployment under a temporary data-dir, with a
// secret file, listen hosts of every kind (an IP, a wildcard, a DNS name)
// and a client:<name> section on a chat and an interaction server, and
// returns the file's path.
func certsDeployment(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "deployment.secret"), []byte(testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "parley.yaml")
	doc := fmt.Sprintf(`data-dir: %s
secret-file: deployment.secret   # under data-dir
databases:
  main: {driver: sqlite, dsn: parley.db}
applications:
  ixn-1:
    type: interaction-server
    listen: "127.0.0.1:7010"
    database: main
    options:
      client:router-1: {type: routing}
  chat-1:
    type: chat-server
    listen: "0.0.0.0:7021"
    database: main
    connections: [ixn-1]
    options:
      client:bot-1: {type: bot}
  gms-1: {type: web-api, listen: "gms.example.com:8080", connections: [chat-1, ixn-1]}
`, filepath.Join(dir, "data"))
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func loadTestDeployment(t *testing.T, file string) *config.Deployment {
	t.Helper()
	d, err := loadDeployment(file)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// verifyCert checks that the certificate in certFile is named cn, chains to
// the CA in caFile for each usage, and is valid for every host.
func verifyCert(t *testing.T, caFile, certFile, cn string, usages []x509.ExtKeyUsage, hosts ...string) *x509.Certificate {
	t.Helper()
	cert, err := readCert(certFile)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != cn {
		t.Errorf("%s: common name %q, want %q", certFile, cert.Subject.CommonName, cn)
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatalf("%s: no certificate", caFile)
	}
	for _, usage := range usages {
		for _, host := range append([]string{""}, hosts...) {
			opts := x509.VerifyOptions{Roots: roots, DNSName: host, KeyUsages: []x509.ExtKeyUsage{usage}}
			if _, err := cert.Verify(opts); err != nil {
				t.Errorf("%s for usage %v, host %q: %v", certFile, usage, host, err)
			}
		}
	}
	return cert
}

var bothUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}

func TestCertsForDeployment(t *testing.T) {
	file := certsDeployment(t)
	d := loadTestDeployment(t, file)
	code, out, errOut := runMain(t, "certs", "--config", file)
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	dir := filepath.Join(d.DataDir, "certs")
	ca := filepath.Join(dir, "ca.pem")
	hosts := map[string][]string{
		"ixn-1":  {"ixn-1", "127.0.0.1"},
		"chat-1": {"chat-1", "127.0.0.1", "::1", "localhost"},
		"gms-1":  {"gms-1", "gms.example.com"},
	}
	for name, hosts := range hosts {
		certFile, keyFile := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
		cert := verifyCert(t, ca, certFile, name, bothUsages, hosts...)
		if got := time.Until(cert.NotAfter).Hours() / 24; got < defaultCertDays-1 || got > defaultCertDays {
			t.Errorf("%s: valid for %.1f more days, want %d", name, got, defaultCertDays)
		}
		if _, err := service.LoadCerts(certFile, keyFile, "", ca); err != nil {
			t.Errorf("%s: LoadCerts: %v", name, err)
		}
		assertMode(t, keyFile, 0o600)
		wantYAML := fmt.Sprintf("  %s:\n    tls: {cert-file: certs/%s.pem, key-file: certs/%s-key.pem}\n", name, name, name)
		if !strings.Contains(out, wantYAML) {
			t.Errorf("output lacks %q:\n%s", wantYAML, out)
		}
	}
	if _, err := verifyCert(t, ca, filepath.Join(dir, "gms-1.pem"), "gms-1", bothUsages).Verify(x509.VerifyOptions{}); err == nil {
		t.Error("gms-1's certificate verifies without the CA")
	}
	assertMode(t, filepath.Join(dir, "ca-key.pem"), 0o600)
	if !strings.Contains(out, "\ntrusted-ca-file: certs/ca.pem\napplications:\n") || !strings.Contains(out, "Add to "+file) {
		t.Errorf("output lacks the trusted-ca-file line for %s:\n%s", file, out)
	}
	caCert, err := readCert(ca)
	if err != nil {
		t.Fatal(err)
	}
	if !caCert.IsCA || caCert.NotAfter.Before(time.Now().AddDate(caYears, 0, -1)) {
		t.Errorf("CA: IsCA %v, not after %s", caCert.IsCA, caCert.NotAfter)
	}
}

func assertMode(t *testing.T, file string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %v, want %v", file, got, want)
	}
}

func TestCertsSecondRunReusesCA(t *testing.T) {
	file := certsDeployment(t)
	out := filepath.Join(t.TempDir(), "elsewhere")
	if code, _, errOut := runMain(t, "certs", "--config", file, "--out", out, "--days", "30"); code != exitOK {
		t.Fatalf("first run: exit %d, %s", code, errOut)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ca, caKey, app := read("ca.pem"), read("ca-key.pem"), read("chat-1.pem")
	// A key file left readable by others is made private again.
	if err := os.Chmod(filepath.Join(out, "chat-1-key.pem"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, errOut := runMain(t, "certs", "--config", file, "--out", out, "--days", "30")
	if code != exitOK {
		t.Fatalf("second run: exit %d, %s", code, errOut)
	}
	if !bytes.Equal(read("ca.pem"), ca) || !bytes.Equal(read("ca-key.pem"), caKey) {
		t.Error("the second run replaced the CA")
	}
	if bytes.Equal(read("chat-1.pem"), app) {
		t.Error("the second run did not re-issue chat-1's certificate")
	}
	assertMode(t, filepath.Join(out, "chat-1-key.pem"), 0o600)
	cert := verifyCert(t, filepath.Join(out, "ca.pem"), filepath.Join(out, "chat-1.pem"), "chat-1", bothUsages, "127.0.0.1")
	if days := time.Until(cert.NotAfter).Hours() / 24; days > 30 || days < 29 {
		t.Errorf("--days 30: valid for %.1f more days", days)
	}
	// Outside data-dir, the printed paths are absolute.
	if !strings.Contains(stdout, "reused") || !strings.Contains(stdout, "trusted-ca-file: "+filepath.Join(out, "ca.pem")+"\n") {
		t.Errorf("output:\n%s", stdout)
	}
}

func TestCertsRefusesHalfACA(t *testing.T) {
	file := certsDeployment(t)
	d := loadTestDeployment(t, file)
	dir := t.TempDir()
	if _, err := writeCerts(d, dir, 1); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "ca.pem")); err != nil {
		t.Fatal(err)
	}
	key, _ := os.ReadFile(filepath.Join(dir, "ca-key.pem"))
	if _, err := writeCerts(d, dir, 1); err == nil || !strings.Contains(err.Error(), "ca-key.pem exists without") {
		t.Errorf("a CA key without its certificate: err = %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "ca-key.pem")); !bytes.Equal(after, key) {
		t.Error("the CA key was overwritten")
	}
}

func TestCertsClient(t *testing.T) {
	file := certsDeployment(t)
	dir := t.TempDir()
	code, out, errOut := runMain(t, "certs", "--config", file, "--out", dir, "--client", "bot-1,router-1", "--client", "bot-1")
	if code != exitOK {
		t.Fatalf("exit %d, %s", code, errOut)
	}
	for _, name := range []string{"bot-1", "router-1"} {
		cert := verifyCert(t, filepath.Join(dir, "ca.pem"), filepath.Join(dir, name+".pem"), name,
			[]x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
		if !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
			t.Errorf("%s: usages %v, want client auth only", name, cert.ExtKeyUsage)
		}
		assertMode(t, filepath.Join(dir, name+"-key.pem"), 0o600)
		if !strings.Contains(out, "Client certificate of "+name) {
			t.Errorf("output lacks %s:\n%s", name, out)
		}
	}
	code, _, errOut = runMain(t, "certs", "--config", file, "--out", t.TempDir(), "--client", "bot-9")
	if code != exitFailure || !strings.Contains(errOut, file) || !strings.Contains(errOut, "client:bot-9") {
		t.Errorf("an undeclared client: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ := runMain(t, "certs", "--config", file, "--client", ""); code != exitUsage {
		t.Errorf("--client '': exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := runMain(t, "certs", "--config", file, "--days", "0"); code != exitUsage {
		t.Errorf("--days 0: exit %d, want %d", code, exitUsage)
	}
}

func testKey(t *testing.T) auth.Key {
	t.Helper()
	key, err := auth.NewKey([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestClientKey(t *testing.T) {
	file := certsDeployment(t)
	for _, name := range []string{"bot-1", "router-1"} {
		code, out, errOut := runMain(t, "client-key", "--config", file, "--name", name)
		if code != exitOK || errOut != "" {
			t.Fatalf("%s: exit %d, stderr %q", name, code, errOut)
		}
		if want := testKey(t).ClientKey(name).Encode() + "\n"; out != want {
			t.Errorf("%s: key %q, want %q", name, out, want)
		}
	}
	code, out, errOut := runMain(t, "client-key", "--config", file, "--name", "bot-9")
	if code != exitFailure || out != "" || !strings.Contains(errOut, file) || !strings.Contains(errOut, "client:bot-9") {
		t.Errorf("unknown client: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, _ := runMain(t, "client-key", "--config", file); code != exitUsage {
		t.Errorf("without --name: exit %d, want %d", code, exitUsage)
	}
}

func TestAdminToken(t *testing.T) {
	file := certsDeployment(t)
	code, out, errOut := runMain(t, "admin-token", "--config", file)
	if code != exitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if want := testKey(t).AdminToken() + "\n"; out != want {
		t.Errorf("token %q, want %q", out, want)
	}
	if strings.Contains(out, testSecret) {
		t.Error("the token reveals the secret")
	}
}

// TestCertsTLSEndToEnd serves TLS with one application's generated
// certificate and dials it with another's: the server verifies the client
// and reads its name from the certificate.
func TestCertsTLSEndToEnd(t *testing.T) {
	d := loadTestDeployment(t, certsDeployment(t))
	files, err := writeCerts(d, t.TempDir(), 1, "bot-1")
	if err != nil {
		t.Fatal(err)
	}
	load := func(p certPair) *service.Certs {
		c, err := service.LoadCerts(p.Cert, p.Key, "", files.CA)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	server := load(files.Apps["chat-1"])
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, auth.CertName(r.TLS))
	}))
	srv.TLS = server.ServerConfig()
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	t.Cleanup(srv.Close)

	get := func(t *testing.T, cfg *http.Client) string {
		t.Helper()
		resp, err := cfg.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(body)
	}
	client := func(c *service.Certs) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: c.ClientConfig()}}
	}
	for _, tt := range []struct{ name, want string }{
		{"gms-1", "gms-1"}, {"ixn-1", "ixn-1"}, {"bot-1", "bot-1"},
	} {
		p, ok := files.Apps[tt.name]
		if !ok {
			p = files.Clients[tt.name]
		}
		if got := get(t, client(load(p))); got != tt.want {
			t.Errorf("dialled with %s's certificate: the server read %q", tt.name, got)
		}
	}
	// Trusting only the CA, without a certificate: the server verifies, the
	// peer has no name.
	trustOnly, err := service.LoadCerts("", "", "", files.CA)
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, client(trustOnly)); got != "" {
		t.Errorf("dialled without a certificate: the server read %q", got)
	}
	// A server certificate is checked against the host: chat-1's names
	// 127.0.0.1, not another address of this host.
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	cfg := load(files.Apps["gms-1"]).ClientConfig()
	cfg.ServerName = "gms.example.com"
	if _, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}).Get("https://127.0.0.1:" + port); err == nil {
		t.Error("chat-1's certificate verified as gms.example.com")
	}
}

// TestCertsListenSANs checks the names a certificate gets from a listen address.
func TestCertsListenSANs(t *testing.T) {
	for _, tt := range []struct {
		listen string
		dns    []string
		ips    []string
	}{
		{"127.0.0.1:7021", []string{"app"}, []string{"127.0.0.1"}},
		{"10.1.2.3:7021", []string{"app"}, []string{"10.1.2.3"}},
		{"[2001:db8::1]:7021", []string{"app"}, []string{"2001:db8::1"}},
		{"0.0.0.0:7021", []string{"app", "localhost"}, []string{"127.0.0.1", "::1"}},
		{"[::]:7021", []string{"app", "localhost"}, []string{"127.0.0.1", "::1"}},
		{":7021", []string{"app", "localhost"}, []string{"127.0.0.1", "::1"}},
		{"chat.example.com:7021", []string{"app", "chat.example.com"}, nil},
		{"app:7021", []string{"app"}, nil},
	} {
		dns, ips := listenSANs("app", tt.listen)
		var gotIPs []string
		for _, ip := range ips {
			gotIPs = append(gotIPs, ip.String())
		}
		if !slices.Equal(dns, tt.dns) || !slices.Equal(gotIPs, tt.ips) {
			t.Errorf("%s: DNS %v IP %v, want %v %v", tt.listen, dns, gotIPs, tt.dns, tt.ips)
		}
	}
}

// TestCertsKeyFilesArePEMKeys guards the formats tls.LoadX509KeyPair and
// other tools read.
func TestCertsKeyFilesArePEMKeys(t *testing.T) {
	d := loadTestDeployment(t, certsDeployment(t))
	files, err := writeCerts(d, t.TempDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{files.CAKey, files.Apps["ixn-1"].Key} {
		data, _ := os.ReadFile(f)
		if block, _ := pem.Decode(data); block == nil || block.Type != "PRIVATE KEY" {
			t.Errorf("%s: not a PKCS #8 PEM key", f)
		}
	}
}

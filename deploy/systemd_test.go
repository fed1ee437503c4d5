package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/testenv"
)

// TestSystemdUnitsVerify checks the units with systemd's own checker,
// systemd-analyze verify, as an instance (chat-1) with the socket's
// address drop-in the guide asks for: no error and no warning. The units
// name /usr/local/bin/parley, which verify wants executable; the copy
// verified names this test's executable instead.
func TestSystemdUnitsVerify(t *testing.T) {
	analyze := testenv.NeedCommand(t, "systemd-analyze")
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, unit := range []string{"parley@.service", "parley@.socket"} {
		b, err := os.ReadFile(filepath.Join("systemd", unit))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "/usr/local/bin/parley") && unit == "parley@.service" {
			t.Fatalf("%s does not run /usr/local/bin/parley", unit)
		}
		b = []byte(strings.ReplaceAll(string(b), "/usr/local/bin/parley", exe))
		if err := os.WriteFile(filepath.Join(dir, unit), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dropIn := filepath.Join(dir, "parley@chat-1.socket.d")
	if err := os.MkdirAll(dropIn, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dropIn, "listen.conf"), []byte("[Socket]\nListenStream=127.0.0.1:7021\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", "--man=no", "parley@chat-1.service", "parley@chat-1.socket")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dir+":") // the trailing colon keeps the system's units (network-online.target)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

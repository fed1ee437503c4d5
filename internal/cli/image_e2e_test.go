package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testenv"
)

// buildImage runs the real binary's `parley image` on itself, with fixed
// labels, into dir, and returns the archive's path and what image printed.
func buildImage(t *testing.T, dir, tag string) (archive, out string) {
	t.Helper()
	bin := buildParley(t)
	archive = filepath.Join(dir, "parley.oci.tar")
	cmd := exec.Command(bin, "image", "--out", archive, "--version", "v0.0.0-test", "--revision", "abc123", "--tag", tag)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1800000000")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("parley image: %v\n%s", err, b)
	}
	return archive, string(b)
}

// TestImageCommand builds the image of the real binary twice: the same
// digest and bytes each time (reproducible), and a dynamic binary refused.
func TestImageCommand(t *testing.T) {
	a1, out1 := buildImage(t, t.TempDir(), "parley:test")
	a2, out2 := buildImage(t, t.TempDir(), "parley:test")
	if !strings.Contains(out1, "parley:test sha256:") || !strings.Contains(out1, "revision abc123") {
		t.Errorf("output %q", out1)
	}
	digest := func(out string) string { _, d, _ := strings.Cut(out, "parley:test "); return strings.Fields(d)[0] }
	if digest(out1) != digest(out2) {
		t.Errorf("two builds: %s and %s", digest(out1), digest(out2))
	}
	b1, _ := os.ReadFile(a1)
	b2, _ := os.ReadFile(a2)
	if len(b1) == 0 || !bytes.Equal(b1, b2) {
		t.Errorf("two builds wrote different archives (%d and %d bytes)", len(b1), len(b2))
	}
	code, _, errOut := runMain(t, "image", "--out", filepath.Join(t.TempDir(), "x.tar"), "--binary", "/bin/sh")
	if code != exitFailure || !strings.Contains(errOut, "dynamically linked; build it with CGO_ENABLED=0") {
		t.Errorf("/bin/sh: exit %d, %q", code, errOut)
	}
}

// TestImageRunsInPodman loads the image into podman (rootful, as Debian
// ships it) and runs a chat server from it with its deployment file
// mounted: /healthz answers through a published port, the logs are JSON
// lines, and podman stop's SIGTERM ends it gracefully with status 0.
//
// The runtime is runc: Debian's crun refuses a host whose cgroups are in
// hybrid mode, as some CI virtual machines are. The resource limits are
// set explicitly because podman's defaults (a million files and
// processes) are above what such a host lets a process raise itself to.
func TestImageRunsInPodman(t *testing.T) {
	testenv.NeedLong(t, "builds and runs a container image")
	podman := testenv.NeedCommand(t, "podman")
	testenv.NeedCommand(t, "runc")
	tag := fmt.Sprintf("localhost/parley-test:%d", os.Getpid())
	dir := t.TempDir()
	archive, _ := buildImage(t, dir, tag)
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(podman, append([]string{"--runtime", "runc"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("load", "-i", archive)
	t.Cleanup(func() { exec.Command(podman, "rmi", "-f", tag).Run() })
	file := filepath.Join(dir, "parley.yaml")
	const deployment = "data-dir: /data\ndatabases: {main: {driver: sqlite, dsn: parley.db}}\n" +
		"applications:\n  chat-1: {type: chat-server, listen: '0.0.0.0:7021', admin-listen: '0.0.0.0:9021', database: main}\n"
	if err := os.WriteFile(file, []byte(deployment), 0o644); err != nil {
		t.Fatal(err)
	}
	var nofile syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("parley-test-%d", os.Getpid())
	run("run", "-d", "--name", name, "-p", "127.0.0.1::9021",
		"--ulimit", fmt.Sprintf("nofile=%d:%d", nofile.Cur, nofile.Cur), "--ulimit", "nproc=4096:4096",
		"-v", file+":/etc/parley/parley.yaml:ro", tag, "run", "--config", "/etc/parley/parley.yaml", "--app", "chat-1")
	t.Cleanup(func() { exec.Command(podman, "rm", "-f", "-v", name).Run() })
	addr := run("port", name, "9021/tcp")
	eventually(t, "/healthz through the published port "+addr, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	run("stop", "-t", "30", name)
	if code := run("inspect", "-f", "{{.State.ExitCode}}", name); code != "0" {
		t.Errorf("exit status %s after SIGTERM, want 0", code)
	}
	checkJSONLogs(t, run("logs", name), "starting", "stopped")
}

// checkJSONLogs checks that every line of logs is a JSON record of chat-1
// and that the messages want appear, in order.
func checkJSONLogs(t *testing.T, logs string, want ...string) {
	t.Helper()
	for line := range strings.SplitSeq(logs, "\n") {
		var rec struct{ App, Msg string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.App != "chat-1" {
			t.Fatalf("not a JSON record of chat-1: %q (%v)", line, err)
		}
		if len(want) > 0 && rec.Msg == want[0] {
			want = want[1:]
		}
	}
	if len(want) > 0 {
		t.Errorf("logs lack %q:\n%s", want, logs)
	}
}

// TestImageTime checks where the image's date comes from: --created (Unix
// seconds or RFC 3339), then SOURCE_DATE_EPOCH, then the commit's time,
// then 1970; never the clock.
func TestImageTime(t *testing.T) {
	vcs := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		flag, env string
		vcs       time.Time
		want      time.Time
	}{
		{"1800000000", "", vcs, time.Unix(1800000000, 0).UTC()},
		{"2026-12-07T18:00:00+01:00", "1", vcs, time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)},
		{"", "1700000000", vcs, time.Unix(1700000000, 0).UTC()},
		{"", "", vcs, vcs},
		{"", "", time.Time{}, time.Unix(0, 0).UTC()},
	} {
		t.Setenv("SOURCE_DATE_EPOCH", tc.env)
		got, err := imageTime(tc.flag, tc.vcs)
		if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("imageTime(%q) with SOURCE_DATE_EPOCH=%q = %v, %v; want %v", tc.flag, tc.env, got, err, tc.want)
		}
	}
	if _, err := imageTime("yesterday", vcs); err == nil || !strings.Contains(err.Error(), `--created "yesterday": want RFC 3339 or Unix seconds`) {
		t.Errorf("yesterday: %v", err)
	}
}

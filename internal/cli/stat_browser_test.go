package cli

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/testenv"
)

// TestBrowserWallboard opens a stat server's wallboard in Chromium before
// the scripted day of TestStatServerEndToEnd and checks that the page shows
// its figures live (screenshots in the artifact directory).
func TestBrowserWallboard(t *testing.T) {
	node := requireBrowser(t)
	c := startStatCluster(t)
	runWallboard(t, c, node, "day", func(ctx context.Context) { c.scriptedDay(ctx) })
}

// TestBrowserWallboardDuringBench opens the wallboard in Chromium while
// `parley bench` runs against the deployment: its chats fill the queue
// (no agent is logged in to the interaction server; the bench's agents
// join the chats directly) and end there, and the page shows it live.
func TestBrowserWallboardDuringBench(t *testing.T) {
	testenv.NeedLong(t, "runs parley bench against a deployment")
	node := requireBrowser(t)
	c := startStatCluster(t)
	runWallboard(t, c, node, "bench", func(ctx context.Context) {
		bench := exec.CommandContext(ctx, buildParley(t), "bench", "--target", c.url("gms-1", "http", ""),
			"--config", filepath.Join(filepath.Dir(c.dataDir), "parley.yaml"), "--sessions", "10", "--ramp", "2s",
			"--duration", "6s", "--session-length", "4s", "--messages", "2")
		if out, err := bench.CombinedOutput(); err != nil {
			t.Errorf("parley bench: %v\n%s", err, out)
		}
	})
}

// runWallboard runs testdata/browser/wallboard.mjs in mode against stat-1
// of c, and play once the page shows the board.
func runWallboard(t *testing.T, c *cluster, node, mode string, play func(context.Context)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	shots := t.ArtifactDir()
	cmd := exec.CommandContext(ctx, node, "wallboard.mjs", c.url("stat-1", "http", ""), shots)
	cmd.Dir = browserDir
	cmd.Env = append(os.Environ(), "PARLEY_ADMIN_TOKEN="+c.web().key.AdminToken(), "PARLEY_WALLBOARD_MODE="+mode)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && !strings.Contains(sc.Text(), `"ready":true`) {
	}
	play(ctx)
	for sc.Scan() {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("wallboard: %v\n%s", err, stderr.String())
	}
	t.Logf("wallboard (%s) passed; screenshots in %s", mode, shots)
}

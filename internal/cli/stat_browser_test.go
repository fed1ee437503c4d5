package cli

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestBrowserWallboard opens a stat server's wallboard in Chromium before
// the scripted day of TestStatServerEndToEnd and checks that the page shows
// its figures live (screenshots in the artifact directory).
func TestBrowserWallboard(t *testing.T) {
	node := requireBrowser(t)
	c := startStatCluster(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	shots := t.ArtifactDir()
	cmd := exec.CommandContext(ctx, node, "wallboard.mjs", c.url("stat-1", "http", ""), shots)
	cmd.Dir = browserDir
	cmd.Env = append(os.Environ(), "PARLEY_ADMIN_TOKEN="+c.web().key.AdminToken())
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
	c.scriptedDay(ctx)
	for sc.Scan() {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("wallboard: %v\n%s", err, stderr.String())
	}
	t.Logf("wallboard passed; screenshots in %s", shots)
}

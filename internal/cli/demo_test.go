package cli

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/parley-chat/parley/deploy"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/ixn"
)

// TestDemoPasswordWarning checks that the embedded deployment's
// interaction server warns of alice's and bob's demo passwords, and stops
// once an agent has a password of its own.
func TestDemoPasswordWarning(t *testing.T) {
	d, err := config.Parse("embedded.yaml", deploy.Embedded)
	if err != nil {
		t.Fatal(err)
	}
	var app *config.Application
	for _, a := range d.Applications {
		if a.Type == config.InteractionServer {
			app = a
		}
	}
	if app == nil {
		t.Fatal("the embedded deployment has no interaction server")
	}
	var buf bytes.Buffer
	warnDemoPasswords(app, slog.New(slog.NewTextHandler(&buf, nil)))
	if out := buf.String(); !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "alice") || !strings.Contains(out, "bob") {
		t.Errorf("start-up log %q: want an error naming alice and bob", out)
	}
	for _, a := range app.Ixn.Agents {
		a.PasswordHash = ixn.NewPasswordHash("a secret of its own", ixn.MinPasswordIterations)
	}
	buf.Reset()
	warnDemoPasswords(app, slog.New(slog.NewTextHandler(&buf, nil)))
	if buf.Len() != 0 {
		t.Errorf("with new passwords: %q", buf.String())
	}
}

package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/parley-chat/parley/deploy"
	"github.com/parley-chat/parley/internal/config"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, must either
// succeed or return *Error values, and every error line must name the file.
func FuzzParse(f *testing.F) {
	f.Add(deploy.Embedded)
	f.Add(deploy.Postgres)
	f.Add([]byte(base))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := config.Parse("f.yaml", data)
		if err == nil {
			if len(d.Applications) == 0 || d.DataDir == "" {
				t.Fatalf("accepted a deployment without applications or data-dir: %+v", d)
			}
			return
		}
		var ce *config.Error
		if !errors.As(err, &ce) {
			t.Fatalf("error %v (%T) is not a *config.Error", err, err)
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, "f.yaml: ") {
				t.Fatalf("error line %q does not name the file", line)
			}
		}
	})
}

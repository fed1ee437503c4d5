package config_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/config"
)

func TestDispositionCodes(t *testing.T) {
	tests := []struct{ opts, want string }{
		{"{}", "[Resolved Follow-up needed Escalated No answer]"},
		{"{settings: {disposition-codes: ' Sale , No sale,,Sale'}}", "[Sale No sale]"},
		{"{settings: {disposition-codes: ''}}", "[]"},
	}
	for _, tt := range tests {
		d, err := config.Parse("x.yaml", webDoc("[chat-1]", tt.opts))
		if err != nil {
			t.Fatalf("%s: %v", tt.opts, err)
		}
		if got := fmt.Sprint(d.Applications["gms-1"].Web.Settings.DispositionCodes()); got != tt.want {
			t.Errorf("%s: DispositionCodes() = %s, want %s", tt.opts, got, tt.want)
		}
	}
	many := make([]string, 31)
	for i := range many {
		many[i] = fmt.Sprint("code ", i)
	}
	bad := []struct{ codes, msg string }{
		{strings.Join(many, ","), "at most 30 codes"},
		{"ok, " + strings.Repeat("x", 65), "at most 64 characters"},
	}
	for _, tt := range bad {
		_, err := config.Parse("x.yaml", webDoc("[chat-1]", fmt.Sprintf("{settings: {disposition-codes: '%s'}}", tt.codes)))
		if err == nil || !strings.Contains(err.Error(), "[settings] disposition-codes") || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%q: error %v, want %q", tt.codes, err, tt.msg)
		}
	}
}

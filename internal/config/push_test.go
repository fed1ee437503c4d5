package config_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/config"
)

func TestPushSection(t *testing.T) {
	d, err := config.Parse("x.yaml", webDoc("[chat-1]",
		`{push: {pushEnabled: "comet, customhttp,fcm", customhttp.url: "http://127.0.0.1:9/n", customhttp.retries: 0, customhttp.queue-size: 5}}`))
	if err != nil {
		t.Fatal(err)
	}
	p := d.Applications["gms-1"].Web.Push
	if p.CustomHTTPURL != "http://127.0.0.1:9/n" || p.CustomHTTPRetries != 0 || p.CustomHTTPQueue != 5 {
		t.Errorf("[push] = %+v", p)
	}
	for typ, want := range map[string]bool{"customhttp": true, "fcm": true, "comet": true, "ios": false, "": false} {
		if p.Enabled(typ) != want {
			t.Errorf("Enabled(%q) = %v", typ, !want)
		}
	}
	if def := config.DefaultWebAPIOptions().Push; !def.Enabled("comet") || def.Enabled("customhttp") || def.CustomHTTPRetries != 3 {
		t.Errorf("defaults = %+v", def)
	}
}

func TestPushChecks(t *testing.T) {
	tests := []struct{ opts, prefix, msg string }{
		{`{push: {pushEnabled: "comet,apns"}}`, `[push] pushEnabled = "apns"`, "want one of android"},
		{`{push: {pushEnabled: customhttp}}`, "[push] customhttp.url", "required when pushEnabled lists customhttp"},
		{`{push: {customhttp.url: "ftp://x/y"}}`, "[push] customhttp.url = ftp://x/y", "want an http or https URL"},
		{`{push: {customhttp.retries: 11}}`, "[push] customhttp.retries = 11", "out of range 0-10"},
		{`{push: {customhttp.queue-size: 0}}`, "[push] customhttp.queue-size = 0", "out of range 1-1000000"},
		{`{push: {customhttp.token: x}}`, "[push] customhttp.token", "unknown option"},
	}
	for _, tt := range tests {
		_, err := config.Parse("x.yaml", webDoc("[chat-1]", tt.opts))
		want := `x.yaml: application "gms-1": ` + tt.prefix
		if err == nil || strings.Count(err.Error(), "\n") != 0 || !strings.HasPrefix(err.Error(), want) ||
			!strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %v; want one line %q...%q", tt.opts, err, want, tt.msg)
		}
	}
}

package config_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
)

// webDoc is a deployment with two chat servers, an interaction server and a
// web API whose connections and options are given.
func webDoc(connections, opts string) []byte {
	return []byte(`
databases: {main: {driver: sqlite, dsn: p.db}}
applications:
  chat-1: {type: chat-server, listen: 127.0.0.1:7021, database: main}
  chat-2: {type: chat-server, listen: 127.0.0.1:7022, database: main}
  ixn-1: {type: interaction-server, listen: 127.0.0.1:7010}
  ixn-2: {type: interaction-server, listen: 127.0.0.1:7011}
  ixn-3: {type: interaction-server, listen: 127.0.0.1:7012}
  gms-1: {type: web-api, listen: 127.0.0.1:8080, connections: ` + connections + `, options: ` + opts + `}
`)
}

func TestWebAPIDefaults(t *testing.T) {
	d, err := config.Parse("x.yaml", webDoc("[chat-1, chat-2]", "{}"))
	if err != nil {
		t.Fatal(err)
	}
	web := d.Applications["gms-1"]
	if web.Web == nil || web.Chat != nil || d.Applications["chat-1"].Web != nil {
		t.Fatalf("gms-1 Web %v Chat %v; chat-1 Web %v", web.Web, web.Chat, d.Applications["chat-1"].Web)
	}
	s := web.Web.Settings
	if got := fmt.Sprint(s.RestSubscriptionIdle, s.StatusPollInterval, s.RequestTimeout); got != "30s 1s 10s" {
		t.Errorf("defaults = %s", got)
	}
	if err := config.DefaultWebAPIOptions().Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
	if q, ok := web.Web.Queue("anything"); !ok || q != config.DefaultQueue {
		t.Errorf("Queue with no endpoints = %q, %v", q, ok)
	}
}

func TestWebAPIEndpoints(t *testing.T) {
	d, err := config.Parse("x.yaml", webDoc("[chat-1]",
		"{endpoints: {customer-support: default, sales: sales-q}, settings: {rest-subscription-idle: 60, request-timeout: 120}}"))
	if err != nil {
		t.Fatal(err)
	}
	w := d.Applications["gms-1"].Web
	tests := []struct {
		service, queue string
		ok             bool
	}{
		{"customer-support", "default", true},
		{"sales", "sales-q", true},
		{"billing", "", false},
	}
	for _, tt := range tests {
		if q, ok := w.Queue(tt.service); q != tt.queue || ok != tt.ok {
			t.Errorf("Queue(%q) = %q, %v; want %q, %v", tt.service, q, ok, tt.queue, tt.ok)
		}
	}
	if w.Settings.RestSubscriptionIdle != time.Minute || w.Settings.RequestTimeout != 2*time.Minute {
		t.Errorf("settings = %+v", w.Settings)
	}
}

func TestWebAPIOptionChecks(t *testing.T) {
	tests := []struct {
		connections, opts string
		prefix, msg       string
	}{
		{"[chat-1]", "{settings: {rest-subscription-idle: 0}}", "[settings] rest-subscription-idle = 0", "out of range 1-3600"},
		{"[chat-1]", "{settings: {rest-subscription-idle: 3601}}", "[settings] rest-subscription-idle = 3601", "out of range 1-3600"},
		{"[chat-1]", "{settings: {status-poll-interval: 61}}", "[settings] status-poll-interval = 61", "out of range 1-60"},
		{"[chat-1]", "{settings: {request-timeout: 0}}", "[settings] request-timeout = 0", "out of range 1-120"},
		{"[chat-1]", "{settings: {request-timeout: 1.5}}", "[settings] request-timeout = 1.5", "not a whole number"},
		{"[chat-1]", "{settings: {flex-push-timeout: 5}}", "[settings] flex-push-timeout", "unknown option"},
		{"[chat-1]", "{endpoints: {sales: ''}}", "[endpoints] sales", "empty queue"},
		{"[chat-1]", "{endpoints: {'a/b': q}}", "[endpoints] a/b", "invalid service name"},
		{"[chat-1]", "{endpoints: {sales: [a]}}", "[endpoints] sales", "want a single value"},
		{"[chat-1]", "{inactivity-control: {}}", "", "unknown section for web-api (want cometd, endpoints, limits, log, push, settings)"},
		{"[chat-1, ixn-1, ixn-2, ixn-3]", "{}", "connections = ixn-3", "at most two interaction servers (a primary/backup pair)"},
	}
	for _, tt := range tests {
		_, err := config.Parse("x.yaml", webDoc(tt.connections, tt.opts))
		want := `x.yaml: application "gms-1": ` + tt.prefix
		if err == nil || strings.Count(err.Error(), "\n") != 0 || !strings.HasPrefix(err.Error(), want) ||
			!strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s %s: error %v; want one line %q...%q", tt.connections, tt.opts, err, want, tt.msg)
		}
	}
}

func TestWebAPIValidate(t *testing.T) {
	o := config.DefaultWebAPIOptions()
	o.Settings.StatusPollInterval = 1500 * time.Millisecond
	o.Endpoints = map[string]string{"sales": ""}
	err := o.Validate()
	want := "[endpoints] sales: empty queue\n[settings] status-poll-interval = 1.5s: not a whole number of seconds"
	if err == nil || strings.ReplaceAll(err.Error(), ": [", "[") != want {
		t.Errorf("Validate() = %v, want\n%s", err, want)
	}
}

func TestCometDSection(t *testing.T) {
	d, err := config.Parse("t.yaml", []byte(`
applications:
  chat-1: {type: chat-server, listen: "127.0.0.1:7021", database: main}
  gms-1: {type: web-api, listen: "127.0.0.1:8080", connections: [chat-1], options: {cometd: {timeout: 20, max-interval: 15}}}
databases: {main: {driver: sqlite, dsn: p.db}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c := d.Applications["gms-1"].Web.CometD; c.Timeout != 20*time.Second || c.MaxInterval != 15*time.Second {
		t.Errorf("[cometd] = %+v", c)
	}
	_, err = config.Parse("t.yaml", []byte(`
applications:
  chat-1: {type: chat-server, listen: "127.0.0.1:7021", database: main}
  gms-1: {type: web-api, listen: "127.0.0.1:8080", connections: [chat-1], options: {cometd: {timeout: 0}}}
databases: {main: {driver: sqlite, dsn: p.db}}
`))
	if err == nil || !strings.Contains(err.Error(), "[cometd] timeout") {
		t.Errorf("timeout 0: err = %v", err)
	}
}

func TestWebAPIPublicURLDefault(t *testing.T) {
	doc := func(listen, extra string) []byte {
		return []byte(`
databases: {main: {driver: sqlite, dsn: p.db}}
applications:
  chat-1: {type: chat-server, listen: 127.0.0.1:7021, database: main}
  gms-1: {type: web-api, listen: "` + listen + `", connections: [chat-1]` + extra + `}
`)
	}
	tests := []struct {
		listen, extra, want string
	}{
		{"127.0.0.1:8080", "", "http://127.0.0.1:8080"},
		{"127.0.0.1:8443", ", tls: {cert-file: c.pem, key-file: k.pem}", "https://127.0.0.1:8443"},
		{"0.0.0.0:8080", "", "http://localhost:8080"},
		{":8080", "", "http://localhost:8080"},
		{"[::]:8080", "", "http://localhost:8080"},
		{"[::1]:8080", "", "http://[::1]:8080"},
		{"chat.example.com:80", ", options: {settings: {public-url: 'https://chat.example.com/parley/'}}", "https://chat.example.com/parley/"},
	}
	for _, tt := range tests {
		d, err := config.Parse("x.yaml", doc(tt.listen, tt.extra))
		if err != nil {
			t.Errorf("%s%s: %v", tt.listen, tt.extra, err)
			continue
		}
		if got := d.Applications["gms-1"].Web.Settings.PublicURL; got != tt.want {
			t.Errorf("%s%s: public-url = %q, want %q", tt.listen, tt.extra, got, tt.want)
		}
	}
	if got := config.DefaultWebAPIOptions().Settings.PublicURL; got != "" {
		t.Errorf("DefaultWebAPIOptions public-url = %q, want empty (filled in by Parse)", got)
	}
}

func TestWebAPIOriginOptions(t *testing.T) {
	d, err := config.Parse("x.yaml", webDoc("[chat-1]",
		"{settings: {public-url: 'https://Chat.Example.com:443/gms', allowed-origins: 'https://shop.example.com, HTTP://Shop.Example.com:80,http://[::1]:8080/,https://shop.example.com'}}"))
	if err != nil {
		t.Fatal(err)
	}
	s := d.Applications["gms-1"].Web.Settings
	if o, err := s.PublicOrigin(); o != "https://chat.example.com" || err != nil {
		t.Errorf("PublicOrigin() = %q, %v", o, err)
	}
	want := "[https://shop.example.com http://shop.example.com http://[::1]:8080]"
	if got := fmt.Sprint(s.Origins()); got != want {
		t.Errorf("Origins() = %s, want %s", got, want)
	}
	bad := []struct{ opts, prefix, msg string }{
		{"{settings: {allowed-origins: '*'}}", "[settings] allowed-origins = *", `"*" is not allowed`},
		{"{settings: {allowed-origins: 'https://a.example.com, *'}}", "[settings] allowed-origins = *", `"*" is not allowed`},
		{"{settings: {allowed-origins: 'shop.example.com'}}", "[settings] allowed-origins = shop.example.com", "want scheme://host[:port]"},
		{"{settings: {allowed-origins: 'https://shop.example.com/path'}}", "[settings] allowed-origins = https://shop.example.com/path", "no path"},
		{"{settings: {allowed-origins: 'ftp://shop.example.com'}}", "[settings] allowed-origins = ftp://shop.example.com", "http or https"},
		{"{settings: {allowed-origins: 'null'}}", "[settings] allowed-origins = null", "want scheme://host[:port]"},
		{"{settings: {allowed-origins: 'https://shop.example.com:99999'}}", "[settings] allowed-origins = https://shop.example.com:99999", "want scheme"},
		{"{settings: {public-url: 'chat.example.com'}}", "[settings] public-url = chat.example.com", "want an http or https URL"},
		{"{settings: {public-url: 'https://u:p@chat.example.com'}}", "[settings] public-url = https://u:p@chat.example.com", "no user"},
	}
	for _, tt := range bad {
		_, err := config.Parse("x.yaml", webDoc("[chat-1]", tt.opts))
		want := `x.yaml: application "gms-1": ` + tt.prefix
		if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %v; want %q...%q", tt.opts, err, want, tt.msg)
		}
	}
}

func TestCanonicalOrigin(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://shop.example.com", "https://shop.example.com"},
		{"HTTPS://SHOP.Example.COM", "https://shop.example.com"},
		{"https://shop.example.com:443", "https://shop.example.com"},
		{"http://shop.example.com:80/", "http://shop.example.com"},
		{"http://shop.example.com:443", "http://shop.example.com:443"},
		{"https://shop.example.com:8443", "https://shop.example.com:8443"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"http://[::1]", "http://[::1]"},
		{"null", ""},
		{"*", ""},
		{"", ""},
		{"file://", ""},
		{"ws://shop.example.com", ""},
		{"https://", ""},
		{"https://shop.example.com/a", ""},
		{"https://shop.example.com?x", ""},
		{"https://shop.example.com#x", ""},
		{"https://u@shop.example.com", ""},
		{"https://shop.example.com:0", ""},
		{"https://shop.example.com:x", ""},
		{"//shop.example.com", ""},
	}
	for _, tt := range tests {
		got, err := config.CanonicalOrigin(tt.in)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("CanonicalOrigin(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

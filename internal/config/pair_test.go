package config_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/config"
)

// TestBackupChecks covers check-config's checks of a chat server's backup.
func TestBackupChecks(t *testing.T) {
	const head = "databases: {main: {driver: sqlite, dsn: p.db}, other: {driver: sqlite, dsn: o.db}}\napplications:\n"
	chat := func(name, port, extra string) string {
		return "  " + name + ": {type: chat-server, listen: '127.0.0.1:" + port + "', database: main" + extra + "}\n"
	}
	tests := []struct {
		name, apps string
		app, want  string // want "" for a valid file
	}{
		{"valid pair", chat("chat-1", "1", ", backup: chat-1b") + chat("chat-1b", "2", "") +
			"  w: {type: web-api, listen: ':3', connections: [chat-1]}\n", "", ""},
		{"itself", chat("chat-1", "1", ", backup: chat-1"), "chat-1", "backup = chat-1: a chat server cannot be its own backup"},
		{"unknown", chat("chat-1", "1", ", backup: chat-9"), "chat-1", "backup = chat-9: no such application"},
		{"not a chat server", chat("chat-1", "1", ", backup: w") + "  w: {type: web-api, listen: ':3'}\n",
			"chat-1", "the backup of a chat-server is a chat-server (this is a web-api)"},
		{"on a web api", "  w: {type: web-api, listen: ':3', backup: chat-1}\n" + chat("chat-1", "1", ""),
			"w", "only a chat-server has a backup"},
		{"shared by two primaries", chat("chat-1", "1", ", backup: chat-b") + chat("chat-2", "2", ", backup: chat-b") + chat("chat-b", "3", ""),
			"chat-2", `backup = chat-b: also the backup of "chat-1"`},
		{"chained", chat("chat-1", "1", ", backup: chat-2") + chat("chat-2", "2", ", backup: chat-3") + chat("chat-3", "3", ""),
			"chat-1", "the backup has a backup of its own"},
		{"other database", chat("chat-1", "1", ", backup: chat-1b") +
			"  chat-1b: {type: chat-server, listen: '127.0.0.1:2', database: other}\n", "chat-1", `the backup's database is "other"`},
		{"web api on the backup", chat("chat-1", "1", ", backup: chat-1b") + chat("chat-1b", "2", "") +
			"  w: {type: web-api, listen: ':3', connections: [chat-1, chat-1b]}\n", "w", `connections = chat-1b: the backup of "chat-1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := config.Parse("x.yaml", []byte(head+tt.apps))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if p, b, ok := d.Pair("chat-1b"); !ok || p != "chat-1" || b != "chat-1b" {
					t.Errorf("Pair(chat-1b) = %q, %q, %v", p, b, ok)
				}
				if _, _, ok := d.Pair("w"); ok {
					t.Error("w is in a pair")
				}
				return
			}
			ce := firstError(t, err)
			if ce.App != tt.app || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v (app %q); want app %q and %q", err, ce.App, tt.app, tt.want)
			}
		})
	}
}

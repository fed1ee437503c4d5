package config_test

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
)

// chatDoc is a deployment with one chat server whose options are opts, a
// YAML flow mapping of sections.
func chatDoc(opts string) []byte {
	return []byte(`
databases: {main: {driver: sqlite, dsn: p.db}}
applications:
  chat-1: {type: chat-server, listen: 127.0.0.1:7021, database: main, options: ` + opts + `}
  web-1: {type: web-api, listen: 127.0.0.1:8080, connections: [chat-1]}
`)
}

func parseChat(t *testing.T, opts string) *config.Application {
	t.Helper()
	d, err := config.Parse("x.yaml", chatDoc(opts))
	if err != nil {
		t.Fatal(err)
	}
	return d.Applications["chat-1"]
}

func TestDefaults(t *testing.T) {
	d, err := config.Parse("x.yaml", chatDoc("{}"))
	if err != nil {
		t.Fatal(err)
	}
	chat, web := d.Applications["chat-1"], d.Applications["web-1"]
	if *chat.Chat != config.DefaultChatServerOptions() {
		t.Errorf("chat options = %+v, want the defaults", *chat.Chat)
	}
	if web.Chat != nil {
		t.Error("web-api has chat-server options")
	}
	for _, a := range []*config.Application{chat, web} {
		if a.Log.Verbose != "standard" || a.Log.Level() != slog.LevelInfo {
			t.Errorf("%s log = %+v", a.Name, a.Log)
		}
	}
	if err := config.DefaultChatServerOptions().Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

// TestDefaultValues pins the documented defaults (public-api-notes §3).
func TestDefaultValues(t *testing.T) {
	o := config.DefaultChatServerOptions()
	s, ic, ft := o.Settings, o.InactivityControl, o.ClientFileTransfer
	got := fmt.Sprintln(s.SessionRestorationMode, s.TranscriptAutoSave, s.TranscriptSaveOnError,
		s.TranscriptResendAttempts, s.TranscriptResendDelay, s.TranscriptSaveNotices, s.SessionRestoreDoPurge,
		s.SessionRestorePushSend, s.FlexPushOnJoin, s.SessionRestoreExtendBy, s.FlexDisconnectTimeout, s.FlexPushTimeout,
		s.AsyncIdleAlert, s.AsyncIdleClose, s.AsyncIdleNotices, s.LimitForSessions, s.LimitForFlexUsers, s.MaxMessageSize, s.ADDPTimeout,
		ic.Enabled, ic.IncludeNotices, ic.TimeoutAlert, ic.TimeoutAlert2, ic.TimeoutClose,
		ft.UploadMaxFileSize, ft.UploadMaxTotalSize, ft.UploadMaxFiles, ft.UploadFileTypes, ft.DownloadAttempts,
		ft.DeleteFile, ft.UploadNeedAgent)
	want := "simple 1 close 3 1s major2 false false false none 45s 2m0s 24h0m0s 1h0m0s major 1000 1001 65536 10s " +
		"false major 4m15s 0s 45s 2097152 5242880 3 " +
		"bmp:csv:doc:docx:gif:jpeg:jpg:pdf:png:ppt:pptx:rtf:tif:tiff:txt:xls:xlsx 5 true true\n"
	if got != want {
		t.Errorf("defaults\n got %s\nwant %s", got, want)
	}
	if !strings.HasPrefix(ic.MessageAlert, "Chat session will be closed soon") ||
		!strings.HasPrefix(ic.MessageAlert2, "Chat session will be closed very soon") ||
		!strings.HasPrefix(ic.MessageClose, "Chat session closed due to inactivity") {
		t.Errorf("inactivity messages = %q %q %q", ic.MessageAlert, ic.MessageAlert2, ic.MessageClose)
	}
}

func TestOptionValues(t *testing.T) {
	a := parseChat(t, `{settings: {transcript-auto-save: 2, flex-disconnect-timeout: "300", session-restore-do-purge: yes,
		session-restore-push-send: true, flex-push-on-join: "yes", transcript-save-notices: all, addp-timeout: 0,
		ixn-submittedby-name: chat-pool},
		inactivity-control: {enabled: 1, timeout-alert2: 30, message-alert: "", message-close: ~},
		client-file-transfer: {upload-max-files: 0}, log: {verbose: debug}}`)
	s, ic := a.Chat.Settings, a.Chat.InactivityControl
	if s.TranscriptAutoSave != 2 || s.FlexDisconnectTimeout != 300*time.Second || !s.SessionRestoreDoPurge ||
		!s.SessionRestorePushSend || !s.FlexPushOnJoin || s.TranscriptSaveNotices != "all" || s.ADDPTimeout != 0 ||
		s.IxnSubmittedByName != "chat-pool" {
		t.Errorf("settings = %+v", s)
	}
	if !ic.Enabled || ic.TimeoutAlert2 != 30*time.Second || ic.MessageAlert != "" || ic.MessageClose != "" {
		t.Errorf("inactivity-control = %+v", ic)
	}
	if a.Chat.ClientFileTransfer.UploadMaxFiles != 0 || a.Log.Level() != slog.LevelDebug {
		t.Errorf("client-file-transfer %+v log %+v", a.Chat.ClientFileTransfer, a.Log)
	}
}

func TestBoolSpellings(t *testing.T) {
	for _, tt := range []struct {
		spelling string
		want     bool
	}{
		{"true", true}, {"True", true}, {"yes", true}, {"YES", true}, {"1", true}, {`"true"`, true},
		{"false", false}, {"no", false}, {"No", false}, {"0", false}, {`"0"`, false},
	} {
		a := parseChat(t, "{inactivity-control: {enabled: "+tt.spelling+"}}")
		if a.Chat.InactivityControl.Enabled != tt.want {
			t.Errorf("enabled: %s = %v, want %v", tt.spelling, a.Chat.InactivityControl.Enabled, tt.want)
		}
	}
}

// TestOptionChecks tries every option at the edges of its range (or its
// allowed values) and just past them.
func TestOptionChecks(t *testing.T) {
	tests := []struct {
		section, option string
		ok, bad         []string
		msg             string
	}{
		{"settings", "session-restoration-mode", []string{"none", "simple"}, []string{"full", `""`}, "want one of none, simple"},
		{"settings", "transcript-auto-save", []string{"0", "2"}, []string{"-1", "3"}, "out of range 0-2"},
		{"settings", "transcript-save-on-error", []string{"close", "continue"}, []string{"stop"}, "want one of"},
		{"settings", "transcript-resend-attempts", []string{"0", "100"}, []string{"-1", "101"}, "out of range 0-100"},
		{"settings", "transcript-resend-delay", []string{"1", "3600"}, []string{"0", "3601"}, "out of range 1-3600"},
		{"settings", "transcript-save-notices", []string{"none", "major", "major2", "typing", "all"}, []string{"some"}, "want one of"},
		{"settings", "session-restore-do-purge", []string{"true", "no"}, []string{"maybe", "2"}, "not a boolean"},
		{"settings", "session-restore-push-send", []string{"false", "yes"}, []string{"on", "2"}, "not a boolean"},
		{"settings", "flex-push-on-join", []string{"true", "0"}, []string{"maybe"}, "not a boolean"},
		{"settings", "session-restore-extend-by", []string{"none"}, []string{"all"}, "want one of"},
		{"settings", "flex-disconnect-timeout", []string{"1", "1728000"}, []string{"0", "1728001", "1.5", "45s"}, ""},
		{"settings", "flex-push-timeout", []string{"1", "1728000"}, []string{"0", "1728001"}, "out of range 1-1728000"},
		{"settings", "async-idle-alert", []string{"1", "1728000"}, []string{"0", "1728001"}, "out of range 1-1728000"},
		{"settings", "async-idle-close", []string{"1", "1728000"}, []string{"0", "1728001"}, "out of range 1-1728000"},
		{"settings", "async-idle-notices", []string{"none", "all"}, []string{"minor"}, "want one of"},
		{"settings", "limit-for-sessions", []string{"0", "1000000"}, []string{"-1", "1000001"}, "out of range 0-1000000"},
		{"settings", "limit-for-flex-users", []string{"0", "1000000"}, []string{"-1", "1000001"}, "out of range 0-1000000"},
		{"settings", "max-message-size", []string{"1024", "16777216"}, []string{"1023", "16777217"}, "out of range 1024-16777216"},
		{"settings", "addp-timeout", []string{"0", "3600"}, []string{"-1", "3601"}, "out of range 0-3600"},
		{"settings", "orphan-sweep-interval", []string{"1", "86400"}, []string{"0", "86401"}, "out of range 1-86400"},
		{"settings", "orphan-timeout", []string{"0", "1728000"}, []string{"-1", "1728001"}, "out of range 0-1728000"},
		{"inactivity-control", "enabled", []string{"false", "yes"}, []string{"on"}, "not a boolean"},
		{"inactivity-control", "include-notices", []string{"none", "major2", "typing"}, []string{"Major"}, "want one of"},
		{"inactivity-control", "timeout-alert", []string{"1", "86400"}, []string{"0", "86401", "~"}, ""},
		{"inactivity-control", "timeout-alert2", []string{"0", "86400"}, []string{"-1", "86401"}, "out of range 0-86400"},
		{"inactivity-control", "timeout-close", []string{"1", "86400"}, []string{"0", "86401"}, "out of range 1-86400"},
		{"inactivity-control", "message-alert", []string{"bye", "1", `""`}, []string{"[a]"}, "want a single value"},
		{"client-file-transfer", "upload-max-file-size", []string{"0", "1073741823"}, []string{"-1", "1073741824"}, "out of range 0-1073741823"},
		{"client-file-transfer", "upload-max-total-size", []string{"0", "1073741823"}, []string{"-1", "1073741824"}, "out of range 0-1073741823"},
		{"client-file-transfer", "upload-max-files", []string{"0", "1000"}, []string{"-1", "1001", "x"}, ""},
		{"client-file-transfer", "upload-file-types", []string{"pdf", "PDF:png:7z", `""`, "~"},
			[]string{"pdf:", `":pdf"`, "pdf::png", ".pdf", `"pdf,png"`, `"p df"`, "é"}, "want file extensions"},
		{"client-file-transfer", "download-attempts", []string{"0", "1000"}, []string{"-1", "1001"}, "out of range 0-1000"},
		{"client-file-transfer", "delete-file", []string{"false", "yes"}, []string{"sometimes"}, "not a boolean"},
		{"client-file-transfer", "upload-need-agent", []string{"no", "true"}, []string{"2"}, "not a boolean"},
		{"log", "verbose", []string{"all", "debug", "trace", "interaction", "standard", "none"}, []string{"info"}, "want one of"},
	}
	for _, tt := range tests {
		for _, v := range tt.ok {
			opts := fmt.Sprintf("{%s: {%s: %s}}", tt.section, tt.option, v)
			if _, err := config.Parse("x.yaml", chatDoc(opts)); err != nil {
				t.Errorf("%s: %v", opts, err)
			}
		}
		for _, v := range tt.bad {
			opts := fmt.Sprintf("{%s: {%s: %s}}", tt.section, tt.option, v)
			_, err := config.Parse("x.yaml", chatDoc(opts))
			ce := firstError(t, err)
			prefix := fmt.Sprintf(`x.yaml: application "chat-1": [%s] %s`, tt.section, tt.option)
			if ce.App != "chat-1" || ce.Section != tt.section || ce.Option != tt.option ||
				!strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("%s: error %q, want %q...%q", opts, err, prefix, tt.msg)
			}
		}
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := config.Parse("deploy/x.yaml", chatDoc("{settings: {transcript-auto-save: 5}}"))
	const want = `deploy/x.yaml: application "chat-1": [settings] transcript-auto-save = 5: out of range 0-2`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

func TestValidate(t *testing.T) {
	o := config.DefaultChatServerOptions()
	o.Settings.FlexPushTimeout = 1500 * time.Millisecond
	o.ClientFileTransfer.UploadMaxFiles = 1001
	err := o.Validate()
	want := "[settings] flex-push-timeout = 1.5s: not a whole number of seconds\n" +
		"[client-file-transfer] upload-max-files = 1001: out of range 0-1000"
	if err == nil || strings.ReplaceAll(err.Error(), ": [", "[") != want {
		t.Errorf("Validate() = %v, want\n%s", err, want)
	}
}

func TestFileTypes(t *testing.T) {
	tests := []struct {
		types string
		want  []string
	}{
		{"", nil},
		{"pdf", []string{"pdf"}},
		{"PDF:Png:jpg", []string{"pdf", "png", "jpg"}},
	}
	for _, tt := range tests {
		f := config.ClientFileTransfer{UploadFileTypes: tt.types}
		if got := f.FileTypes(); !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("FileTypes(%q) = %q, want %q", tt.types, got, tt.want)
		}
	}
}

func TestLogLevel(t *testing.T) {
	tests := []struct {
		verbose string
		level   slog.Level
		enabled bool
	}{
		{"all", slog.LevelDebug, true},
		{"debug", slog.LevelDebug, true},
		{"trace", slog.LevelInfo, true},
		{"interaction", slog.LevelInfo, true},
		{"standard", slog.LevelInfo, true},
		{"", slog.LevelInfo, true},
		{"none", 0, false},
	}
	for _, tt := range tests {
		l := config.LogOptions{Verbose: tt.verbose}
		if l.Enabled() != tt.enabled {
			t.Errorf("%q: Enabled() = %v", tt.verbose, l.Enabled())
		}
		if tt.enabled && l.Level() != tt.level {
			t.Errorf("%q: Level() = %v, want %v", tt.verbose, l.Level(), tt.level)
		}
		if !tt.enabled && l.Level() <= slog.LevelError {
			t.Errorf("%q: Level() = %v, want above Error", tt.verbose, l.Level())
		}
	}
}

// TestExtendByNeeds checks the dependencies seed 000 lists for
// session-restore-extend-by: any value but none needs
// session-restore-push-send and flex-push-on-join on.
func TestExtendByNeeds(t *testing.T) {
	for _, v := range []string{"agent", "esp", "both"} {
		ok := fmt.Sprintf("{settings: {session-restore-extend-by: %s, session-restore-push-send: true, flex-push-on-join: true}}", v)
		if _, err := config.Parse("x.yaml", chatDoc(ok)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
		for _, deps := range []string{"", "session-restore-push-send: true", "flex-push-on-join: true"} {
			bad := fmt.Sprintf("{settings: {session-restore-extend-by: %s, %s}}", v, deps)
			_, err := config.Parse("x.yaml", chatDoc(bad))
			if err == nil || !strings.Contains(err.Error(), "session-restore-extend-by") ||
				!strings.Contains(err.Error(), "needs session-restore-push-send: true and flex-push-on-join: true") {
				t.Errorf("%s: error %v, want the dependencies named", bad, err)
			}
		}
	}
}

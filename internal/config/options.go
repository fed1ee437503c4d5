package config

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"
)

// ChatServerOptions holds the option sections of a chat-server application
// except [log], which every application type has (see Application.Log).
type ChatServerOptions struct {
	Settings           Settings           // [settings]
	InactivityControl  InactivityControl  // [inactivity-control]
	ClientFileTransfer ClientFileTransfer // [client-file-transfer]
	Limits             ChatLimits         // [limits]
}

// Settings is the [settings] section of a chat server. Durations are whole
// seconds in the file. The zero value is not valid: start from
// DefaultChatServerOptions.
type Settings struct {
	// SessionRestorationMode is session-restoration-mode: "none" or "simple"
	// (default); simple lets another chat server restore a session of a
	// failed one.
	SessionRestorationMode string
	// TranscriptAutoSave is transcript-auto-save, 0-2, default 1: 0 saves the
	// transcript only at the end, 1 after each message, 2 as 1 and also
	// notifies clients of each save.
	TranscriptAutoSave int
	// TranscriptSaveOnError is transcript-save-on-error: "close" (default)
	// closes the session when a save fails for good, "continue" keeps it.
	TranscriptSaveOnError string
	// TranscriptResendAttempts is transcript-resend-attempts, 0-100, default
	// 3: retries of a failed transcript save.
	TranscriptResendAttempts int
	// TranscriptResendDelay is transcript-resend-delay, 1-3600 s, default 1 s:
	// the pause between those retries.
	TranscriptResendDelay time.Duration
	// TranscriptSaveNotices is transcript-save-notices: which notices are
	// stored in the transcript, none|major|major2|typing|all, default major2.
	// Typing notices are stored only at typing and all.
	TranscriptSaveNotices string
	// SessionRestoreDoPurge is session-restore-do-purge, default false.
	SessionRestoreDoPurge bool
	// SessionRestorePushSend is session-restore-push-send, default false:
	// whether a chat restored here keeps its client's permanent push
	// subscription (the session's push_notification_* userData), with
	// flex-push-timeout rather than flex-disconnect-timeout for the client.
	SessionRestorePushSend bool
	// FlexPushOnJoin is flex-push-on-join, default false: whether a chat may
	// get a permanent push subscription when it is created (Request Chat
	// with the push_notification_* userData). Off, such a chat is created
	// without one.
	FlexPushOnJoin bool
	// IxnSubmittedByName is ixn-submittedby-name, default "": the client
	// name this chat server registers with at the interaction server and
	// submits its chats under. Empty means the application name; one name
	// shared by every chat server makes the interaction server tell all of
	// them when a workflow stops a chat's interaction.
	IxnSubmittedByName string
	// SessionRestoreExtendBy is session-restore-extend-by: who may start a
	// restoration, none (default), agent, esp or both.
	SessionRestoreExtendBy string
	// FlexDisconnectTimeout is flex-disconnect-timeout, 1-1728000 s, default
	// 45 s: a flex (web API) client silent this long is removed.
	FlexDisconnectTimeout time.Duration
	// FlexPushTimeout is flex-push-timeout, 1-1728000 s, default 120 s: for
	// a client whose events are pushed, how often the web API is asked
	// whether it is still connected (flex-disconnect-timeout is off for it).
	FlexPushTimeout time.Duration
	// AsyncIdleAlert is async-idle-alert, 1-1728000 s, default 86400 s: the
	// idle time before an async session gets its alert.
	AsyncIdleAlert time.Duration
	// AsyncIdleClose is async-idle-close, 1-1728000 s, default 3600 s: the
	// idle time after that alert before the async session is closed.
	AsyncIdleClose time.Duration
	// AsyncIdleNotices is async-idle-notices: which notices reset the async
	// idle timers, none|major|major2|typing|all, default major.
	AsyncIdleNotices string
	// LimitForSessions is limit-for-sessions, 0-1000000, default 1000: live
	// sessions beyond which new ones are refused.
	LimitForSessions int
	// LimitForFlexUsers is limit-for-flex-users, 0-1000000, default 1001.
	LimitForFlexUsers int
	// MaxMessageSize is max-message-size (parley's own option), 1024-16777216
	// bytes, default 65536: the largest protocol frame accepted.
	MaxMessageSize int
	// ADDPTimeout is addp-timeout, 0-3600 s, default 10 s: the keep-alive
	// ping interval on protocol connections; 0 turns pings off.
	ADDPTimeout time.Duration
	// BackupTakeoverTimeout is backup-takeover-timeout (parley's own
	// option), 1-3600 s, default 3 s: how long the backup of a warm-standby
	// pair finds its primary unreachable before it takes over (docs/ha.md).
	BackupTakeoverTimeout time.Duration
	// OrphanSweepInterval is orphan-sweep-interval (parley's own option),
	// 1-86400 s, default 30 s: how often the chat server looks for orphans,
	// sessions in the store whose owner does not hold them.
	OrphanSweepInterval time.Duration
	// OrphanTimeout is orphan-timeout (parley's own option), 0-1728000 s,
	// default 0: an orphan whose last stored event is this old is finalised
	// without being restored (the role of Cassandra's time-to-live); 0
	// restores every orphan with a party left, and its timers end it.
	OrphanTimeout time.Duration
}

// InactivityControl is the [inactivity-control] section of a chat server.
type InactivityControl struct {
	// Enabled is enabled, default false: whether idle sessions are alerted
	// and closed at all.
	Enabled bool
	// IncludeNotices is include-notices: which notices count as activity,
	// none|major|major2|typing|all, default major.
	IncludeNotices string
	// TimeoutAlert is timeout-alert, 1-86400 s, default 255 s: idle time
	// before the first alert.
	TimeoutAlert time.Duration
	// TimeoutAlert2 is timeout-alert2, 0-86400 s, default 0 (no second
	// alert): idle time after the first alert before the second.
	TimeoutAlert2 time.Duration
	// TimeoutClose is timeout-close, 1-86400 s, default 45 s: idle time after
	// the last alert before the session is closed.
	TimeoutClose time.Duration
	// MessageAlert is message-alert, the text of the first alert; empty
	// sends no text.
	MessageAlert string
	// MessageAlert2 is message-alert2, the text of the second alert.
	MessageAlert2 string
	// MessageClose is message-close, the text of the closing notice.
	MessageClose string
}

// ClientFileTransfer is the [client-file-transfer] section of a chat server.
type ClientFileTransfer struct {
	// UploadMaxFileSize is upload-max-file-size, 0-1073741823 bytes, default
	// 2097152.
	UploadMaxFileSize int
	// UploadMaxTotalSize is upload-max-total-size, 0-1073741823 bytes per
	// session, default 5242880.
	UploadMaxTotalSize int
	// UploadMaxFiles is upload-max-files, 0-1000 files per session, default 3.
	UploadMaxFiles int
	// UploadFileTypes is upload-file-types: the extensions of the files a
	// client may upload, colon-separated and case-insensitive, default
	// DefaultUploadFileTypes. Empty allows any file.
	UploadFileTypes string
	// DownloadAttempts is download-attempts, 0-1000, default 5: how many
	// times each file may be downloaded; 0 is unlimited.
	DownloadAttempts int
	// DeleteFile is delete-file, default true: whether a client may delete
	// the files it uploaded.
	DeleteFile bool
	// UploadNeedAgent is upload-need-agent, default true: a client may upload
	// only while an agent is in the chat.
	UploadNeedAgent bool
}

// DefaultUploadFileTypes is the default of upload-file-types.
const DefaultUploadFileTypes = "bmp:csv:doc:docx:gif:jpeg:jpg:pdf:png:ppt:pptx:rtf:tif:tiff:txt:xls:xlsx"

// FileTypes returns the extensions of upload-file-types in lower case, or
// nil when any file is allowed.
func (f ClientFileTransfer) FileTypes() []string {
	if f.UploadFileTypes == "" {
		return nil
	}
	return strings.Split(strings.ToLower(f.UploadFileTypes), ":")
}

// LogOptions is the [log] section, which every application type has.
type LogOptions struct {
	// Verbose is verbose: all, debug, trace, interaction, standard (default)
	// or none. The zero value behaves as standard.
	Verbose string
}

// levelNone is above every level anyone logs at, so nothing passes it.
const levelNone = slog.Level(math.MaxInt)

// Level returns the slog level verbose maps to: all and debug log at Debug;
// trace, interaction and standard at Info; none at a level above Error, so
// nothing is logged.
func (l LogOptions) Level() slog.Level {
	switch l.Verbose {
	case "all", "debug":
		return slog.LevelDebug
	case "none":
		return levelNone
	}
	return slog.LevelInfo
}

// Enabled reports whether anything is logged at all.
func (l LogOptions) Enabled() bool { return l.Verbose != "none" }

// DefaultChatServerOptions returns every chat-server option at its default.
func DefaultChatServerOptions() ChatServerOptions {
	return ChatServerOptions{
		Settings: Settings{
			SessionRestorationMode:   "simple",
			TranscriptAutoSave:       1,
			TranscriptSaveOnError:    "close",
			TranscriptResendAttempts: 3,
			TranscriptResendDelay:    1 * time.Second,
			TranscriptSaveNotices:    "major2",
			SessionRestoreExtendBy:   "none",
			FlexDisconnectTimeout:    45 * time.Second,
			FlexPushTimeout:          120 * time.Second,
			AsyncIdleAlert:           86400 * time.Second,
			AsyncIdleClose:           3600 * time.Second,
			AsyncIdleNotices:         "major",
			LimitForSessions:         1000,
			LimitForFlexUsers:        1001,
			MaxMessageSize:           65536,
			ADDPTimeout:              10 * time.Second,
			BackupTakeoverTimeout:    3 * time.Second,
			OrphanSweepInterval:      30 * time.Second,
		},
		InactivityControl: InactivityControl{
			IncludeNotices: "major",
			TimeoutAlert:   255 * time.Second,
			TimeoutClose:   45 * time.Second,
			MessageAlert:   "Chat session will be closed soon due to inactivity of chat participants.",
			MessageAlert2:  "Chat session will be closed very soon due to inactivity of chat participants.",
			MessageClose:   "Chat session closed due to inactivity of chat participants.",
		},
		ClientFileTransfer: ClientFileTransfer{
			UploadMaxFileSize:  2097152,
			UploadMaxTotalSize: 5242880,
			UploadMaxFiles:     3,
			UploadFileTypes:    DefaultUploadFileTypes,
			DownloadAttempts:   5,
			DeleteFile:         true,
			UploadNeedAgent:    true,
		},
		Limits: defaultChatLimits(),
	}
}

func defaultLogOptions() LogOptions { return LogOptions{Verbose: "standard"} }

// noticeLevels is the vocabulary of include-notices and its relatives.
var noticeLevels = []string{"none", "major", "major2", "typing", "all"}

// Validate checks every option against its range or its allowed values. It
// returns *Error values (joined when there are several) naming the section
// and option; File and App are left for the caller to fill in.
func (o ChatServerOptions) Validate() error {
	return joinErrors(o.validate())
}

func (o ChatServerOptions) validate() []*Error {
	return slices.Concat(o.Settings.validate(), o.InactivityControl.validate(), o.ClientFileTransfer.validate(), o.Limits.validate())
}

func (s Settings) validate() []*Error {
	const sec, day20 = "settings", 1728000
	return collect(sec,
		oneOf("session-restoration-mode", s.SessionRestorationMode, "none", "simple"),
		intIn("transcript-auto-save", s.TranscriptAutoSave, 0, 2),
		oneOf("transcript-save-on-error", s.TranscriptSaveOnError, "close", "continue"),
		intIn("transcript-resend-attempts", s.TranscriptResendAttempts, 0, 100),
		secondsIn("transcript-resend-delay", s.TranscriptResendDelay, 1, 3600),
		oneOf("transcript-save-notices", s.TranscriptSaveNotices, noticeLevels...),
		oneOf("session-restore-extend-by", s.SessionRestoreExtendBy, "none", "agent", "esp", "both"),
		s.extendByNeeds(),
		secondsIn("flex-disconnect-timeout", s.FlexDisconnectTimeout, 1, day20),
		secondsIn("flex-push-timeout", s.FlexPushTimeout, 1, day20),
		secondsIn("async-idle-alert", s.AsyncIdleAlert, 1, day20),
		secondsIn("async-idle-close", s.AsyncIdleClose, 1, day20),
		oneOf("async-idle-notices", s.AsyncIdleNotices, noticeLevels...),
		intIn("limit-for-sessions", s.LimitForSessions, 0, 1000000),
		intIn("limit-for-flex-users", s.LimitForFlexUsers, 0, 1000000),
		intIn("max-message-size", s.MaxMessageSize, 1024, 16777216),
		secondsIn("addp-timeout", s.ADDPTimeout, 0, 3600),
		secondsIn("backup-takeover-timeout", s.BackupTakeoverTimeout, 1, 3600),
		secondsIn("orphan-sweep-interval", s.OrphanSweepInterval, 1, 86400),
		secondsIn("orphan-timeout", s.OrphanTimeout, 0, day20),
	)
}

// extendByNeeds checks the options session-restore-extend-by depends on
// (seed 000, step 7): a chat restored while its customer is silent must
// keep pushing to the customer, whose web API serves CometD and push
// notifications, so session-restore-push-send must be on, and with it
// flex-push-on-join.
func (s Settings) extendByNeeds() *Error {
	if s.SessionRestoreExtendBy == "none" || (s.SessionRestorePushSend && s.FlexPushOnJoin) {
		return nil
	}
	return &Error{Option: "session-restore-extend-by", Value: fmt.Sprintf("%q", s.SessionRestoreExtendBy),
		Msg: "needs session-restore-push-send: true and flex-push-on-join: true"}
}

func (c InactivityControl) validate() []*Error {
	return collect("inactivity-control",
		oneOf("include-notices", c.IncludeNotices, noticeLevels...),
		secondsIn("timeout-alert", c.TimeoutAlert, 1, 86400),
		secondsIn("timeout-alert2", c.TimeoutAlert2, 0, 86400),
		secondsIn("timeout-close", c.TimeoutClose, 1, 86400),
	)
}

func (f ClientFileTransfer) validate() []*Error {
	return collect("client-file-transfer",
		intIn("upload-max-file-size", f.UploadMaxFileSize, 0, 1073741823),
		intIn("upload-max-total-size", f.UploadMaxTotalSize, 0, 1073741823),
		intIn("upload-max-files", f.UploadMaxFiles, 0, 1000),
		fileTypes("upload-file-types", f.UploadFileTypes),
		intIn("download-attempts", f.DownloadAttempts, 0, 1000),
	)
}

// fileTypes checks a colon-separated list of file extensions; empty is
// allowed and means any.
func fileTypes(option, v string) *Error {
	if v == "" {
		return nil
	}
	for ext := range strings.SplitSeq(v, ":") {
		if ext == "" || strings.IndexFunc(ext, notExtChar) >= 0 {
			return &Error{Option: option, Value: fmt.Sprintf("%q", v),
				Msg: "want file extensions of letters and digits separated by colons, such as pdf:png"}
		}
	}
	return nil
}

func notExtChar(r rune) bool {
	return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
}

func (l LogOptions) validate() []*Error {
	return collect("log",
		oneOf("verbose", l.Verbose, "all", "debug", "trace", "interaction", "standard", "none"))
}

// collect keeps the failed checks and stamps them with their section.
func collect(section string, checks ...*Error) []*Error {
	var errs []*Error
	for _, e := range checks {
		if e != nil {
			e.Section = section
			errs = append(errs, e)
		}
	}
	return errs
}

func intIn(option string, v, lo, hi int) *Error {
	if v >= lo && v <= hi {
		return nil
	}
	return &Error{Option: option, Value: fmt.Sprint(v), Msg: fmt.Sprintf("out of range %d-%d", lo, hi)}
}

func secondsIn(option string, d time.Duration, lo, hi int) *Error {
	if d%time.Second != 0 {
		return &Error{Option: option, Value: d.String(), Msg: "not a whole number of seconds"}
	}
	return intIn(option, int(d/time.Second), lo, hi)
}

func oneOf(option, v string, allowed ...string) *Error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return &Error{Option: option, Value: fmt.Sprintf("%q", v),
		Msg: "want one of " + strings.Join(allowed, ", ")}
}

// joinErrors returns nil, the only error, or all of them joined.
func joinErrors(errs []*Error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}

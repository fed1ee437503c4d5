package chatserver

import (
	"fmt"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/config"
)

// liveOptions are the options in force, with what sessions derive from
// them. A value is never modified: Reconfigure swaps in a new one, so a
// reader holds a consistent set without a lock.
type liveOptions struct {
	config.ChatServerOptions
	rules       chat.Rules
	saveNotices chat.NoticeSet
}

func newLiveOptions(o config.ChatServerOptions) (*liveOptions, error) {
	save, err := chat.ParseNoticeLevel(o.Settings.TranscriptSaveNotices)
	if err != nil {
		return nil, fmt.Errorf("[settings] transcript-save-notices: %w", err)
	}
	rules, err := rulesFrom(o)
	if err != nil {
		return nil, err
	}
	return &liveOptions{ChatServerOptions: o, rules: rules, saveNotices: save}, nil
}

// options returns the options in force. Options that need a restart keep
// their start-up values in it, so they may equally be read from s.cfg.
func (s *Server) options() *liveOptions { return s.live.Load() }

// Reconfigure applies the options of a re-read deployment file while the
// server runs. [inactivity-control], [client-file-transfer] and the
// [settings] options copied by setLive apply at once to new sessions and
// requests, and to an active session from its next activity or timeout (its
// countdowns keep the deadlines they were armed with). The other options
// keep their start-up values; Reconfigure logs each one that changed and
// returns their names. An invalid o changes nothing.
func (s *Server) Reconfigure(o config.ChatServerOptions) ([]string, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("chatserver: %w", err)
	}
	next := s.cfg.Options // the start-up values of what needs a restart
	next.InactivityControl = o.InactivityControl
	next.ClientFileTransfer = o.ClientFileTransfer
	next.Limits = o.Limits
	setLive(&next.Settings, o.Settings)
	lo, err := newLiveOptions(next)
	if err != nil {
		return nil, fmt.Errorf("chatserver: %w", err)
	}
	restart := restartOnly(next.Settings, o.Settings)
	if len(restart) == 0 && next != o {
		restart = []string{"(an option of a section this version applies at start only)"}
	}
	s.live.Store(lo)
	for _, name := range restart {
		s.log.Warn("option changed; it applies after a restart", "option", name)
	}
	s.log.Info("options reloaded", "restart-needed", len(restart))
	return restart, nil
}

// setLive copies the [settings] options that may change while the server
// runs: they are read at each use (a status request) or turned into
// session rules.
func setLive(dst *config.Settings, src config.Settings) {
	dst.TranscriptSaveNotices = src.TranscriptSaveNotices // new sessions only: a session keeps what it stores
	dst.FlexDisconnectTimeout = src.FlexDisconnectTimeout
	dst.FlexPushTimeout = src.FlexPushTimeout
	dst.AsyncIdleAlert = src.AsyncIdleAlert
	dst.AsyncIdleClose = src.AsyncIdleClose
	dst.AsyncIdleNotices = src.AsyncIdleNotices
	dst.LimitForSessions = src.LimitForSessions
	dst.LimitForFlexUsers = src.LimitForFlexUsers
	dst.FlexPushOnJoin = src.FlexPushOnJoin                 // read at each new chat's push subscription
	dst.SessionRestorePushSend = src.SessionRestorePushSend // read at each restoration
	dst.OrphanSweepInterval = src.OrphanSweepInterval       // read after each sweep
	dst.OrphanTimeout = src.OrphanTimeout                   // read at each adoption
}

// restartOnly names the [settings] options that differ between the running
// values a and the wanted b, which setLive does not copy: they shape the
// server's connections, its registration or how its sessions are stored
// (the transcript save policy is read where saves are made, from the
// start-up options).
func restartOnly(a, b config.Settings) []string {
	var names []string
	for _, o := range []struct {
		name    string
		changed bool
	}{
		{"session-restoration-mode", a.SessionRestorationMode != b.SessionRestorationMode},
		{"transcript-auto-save", a.TranscriptAutoSave != b.TranscriptAutoSave},
		{"transcript-save-on-error", a.TranscriptSaveOnError != b.TranscriptSaveOnError},
		{"transcript-resend-attempts", a.TranscriptResendAttempts != b.TranscriptResendAttempts},
		{"transcript-resend-delay", a.TranscriptResendDelay != b.TranscriptResendDelay},
		{"session-restore-do-purge", a.SessionRestoreDoPurge != b.SessionRestoreDoPurge},
		{"ixn-submittedby-name", a.IxnSubmittedByName != b.IxnSubmittedByName},
		{"session-restore-extend-by", a.SessionRestoreExtendBy != b.SessionRestoreExtendBy},
		{"max-message-size", a.MaxMessageSize != b.MaxMessageSize},
		{"addp-timeout", a.ADDPTimeout != b.ADDPTimeout},
		{"backup-takeover-timeout", a.BackupTakeoverTimeout != b.BackupTakeoverTimeout},
	} {
		if o.changed {
			names = append(names, "[settings] "+o.name)
		}
	}
	return names
}

// syncRules gives e's session the rules in force when they changed since it
// last took them. Only e's drainer calls it, before each operation, so a
// dormant session costs nothing on a reload and picks the change up at its
// next activity or timeout.
func (s *Server) syncRules(e *entry) {
	if e.sess == nil {
		return
	}
	if lo := s.options(); e.rules != lo {
		e.sess.SetRules(lo.rules)
		e.rules = lo
	}
}

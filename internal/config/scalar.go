package config

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// section maps the option names of one section to pointers at their fields:
// *int, *bool, *string or *time.Duration (whole seconds in the file).
type section map[string]any

func (s *Settings) section() section {
	return section{
		"session-restoration-mode":   &s.SessionRestorationMode,
		"transcript-auto-save":       &s.TranscriptAutoSave,
		"transcript-save-on-error":   &s.TranscriptSaveOnError,
		"transcript-resend-attempts": &s.TranscriptResendAttempts,
		"transcript-resend-delay":    &s.TranscriptResendDelay,
		"transcript-save-notices":    &s.TranscriptSaveNotices,
		"session-restore-do-purge":   &s.SessionRestoreDoPurge,
		"session-restore-push-send":  &s.SessionRestorePushSend,
		"flex-push-on-join":          &s.FlexPushOnJoin,
		"session-restore-extend-by":  &s.SessionRestoreExtendBy,
		"ixn-submittedby-name":       &s.IxnSubmittedByName,
		"flex-disconnect-timeout":    &s.FlexDisconnectTimeout,
		"flex-push-timeout":          &s.FlexPushTimeout,
		"async-idle-alert":           &s.AsyncIdleAlert,
		"async-idle-close":           &s.AsyncIdleClose,
		"async-idle-notices":         &s.AsyncIdleNotices,
		"limit-for-sessions":         &s.LimitForSessions,
		"limit-for-flex-users":       &s.LimitForFlexUsers,
		"max-message-size":           &s.MaxMessageSize,
		"addp-timeout":               &s.ADDPTimeout,
		"backup-takeover-timeout":    &s.BackupTakeoverTimeout,
		"orphan-sweep-interval":      &s.OrphanSweepInterval,
		"orphan-timeout":             &s.OrphanTimeout,
		"stop-abandoned-interaction": &s.StopAbandonedInteraction,
		"attach-session-statistics":  &s.AttachSessionStatistics,
	}
}

func (c *InactivityControl) section() section {
	return section{
		"enabled":         &c.Enabled,
		"include-notices": &c.IncludeNotices,
		"timeout-alert":   &c.TimeoutAlert,
		"timeout-alert2":  &c.TimeoutAlert2,
		"timeout-close":   &c.TimeoutClose,
		"message-alert":   &c.MessageAlert,
		"message-alert2":  &c.MessageAlert2,
		"message-close":   &c.MessageClose,
	}
}

func (f *ClientFileTransfer) section() section {
	return section{
		"upload-max-file-size":  &f.UploadMaxFileSize,
		"upload-max-total-size": &f.UploadMaxTotalSize,
		"upload-max-files":      &f.UploadMaxFiles,
		"upload-file-types":     &f.UploadFileTypes,
		"download-attempts":     &f.DownloadAttempts,
		"delete-file":           &f.DeleteFile,
		"upload-need-agent":     &f.UploadNeedAgent,
	}
}

func (l *LogOptions) section() section { return section{"verbose": &l.Verbose} }

// sections returns the sections an application of its type accepts.
func (a *Application) sections() map[string]section {
	s := map[string]section{"log": a.Log.section()}
	if a.Chat != nil {
		s["settings"] = a.Chat.Settings.section()
		s["inactivity-control"] = a.Chat.InactivityControl.section()
		s["client-file-transfer"] = a.Chat.ClientFileTransfer.section()
		s["limits"] = a.Chat.Limits.section()
		s["health-service"] = a.Chat.HealthService.section()
	}
	if a.Web != nil {
		s["settings"] = a.Web.Settings.section()
		s["endpoints"] = section{} // service names, read by setEndpoints
		s["cometd"] = a.Web.CometD.section()
		s["push"] = a.Web.Push.section()
		s["limits"] = a.Web.Limits.section()
	}
	if clientTypes[a.Type] != nil {
		s["client:<name>"] = nil // read by setOptions with a.clientSection
	}
	if a.Proxy != nil {
		s["settings"] = a.Proxy.section()
	}
	if a.Cluster != nil {
		s["cluster-settings"] = a.Cluster.section()

	}
	if a.Stat != nil {
		s["statserver"] = a.Stat.Settings.section()
		s["ha"] = a.Stat.HA.section()
		for _, named := range []string{"TimeProfiles", "TimeRanges", "agent-group:<name>", "<stat type>"} {
			s[named] = nil // listed in errors; setOptions reads them with a.Stat.section
		}
	}
	if a.Ixn != nil {
		s["settings"] = a.Ixn.Settings.section()
		s["cluster-settings"] = a.Ixn.Cluster.section()
		for _, named := range []string{"queue:<name>", "view:<name>", "agent:<id>", "not-ready-reason:<code>"} {
			s[named] = nil // listed in errors; setOptions reads them with a.Ixn.section
		}
	}
	return s
}

// setOptions writes the options as written in the file over the defaults
// already in a, in sorted order so that errors come out stable.
func (a *Application) setOptions(raw map[string]map[string]yaml.Node) []*Error {
	known := a.sections()
	var errs []*Error
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		sec, ok := known[name]
		if named, isNamed := a.Ixn.section(name); isNamed {
			sec, ok = named, true
		} else if named, isNamed := a.Stat.section(name, slices.Sorted(maps.Keys(raw[name]))); isNamed {
			sec, ok = named, true
		} else if named, isNamed := a.clientSection(name); isNamed {
			sec, ok = named, true
		}
		if !ok {
			errs = append(errs, &Error{Section: name, Msg: fmt.Sprintf(
				"unknown section for %s (want %s)", a.Type, strings.Join(slices.Sorted(maps.Keys(known)), ", "))})
			continue
		}
		if name == "endpoints" && a.Web != nil {
			errs = append(errs, a.Web.setEndpoints(raw[name])...)
			continue
		}
		errs = append(errs, sec.set(name, raw[name])...)
	}
	return errs
}

func (s section) set(name string, raw map[string]yaml.Node) []*Error {
	var errs []*Error
	for _, opt := range slices.Sorted(maps.Keys(raw)) {
		node := raw[opt]
		field, ok := s[opt]
		if !ok {
			errs = append(errs, &Error{Section: name, Option: opt, Msg: "unknown option"})
			continue
		}
		if e := setScalar(field, &node); e != nil {
			e.Section, e.Option = name, opt
			errs = append(errs, e)
		}
	}
	return errs
}

// setScalar reads one option value into field. YAML may spell a value as an
// int, a bool or a string; all of them arrive here as the scalar's text.
func setScalar(field any, n *yaml.Node) *Error {
	if n.Kind != yaml.ScalarNode {
		return &Error{Msg: "want a single value, not a list or mapping"}
	}
	text := n.Value
	if n.ShortTag() == "!!null" {
		text = ""
	}
	if p, ok := field.(*string); ok {
		*p = text
		return nil
	}
	if p, ok := field.(*stringSink); ok {
		p.m[p.k] = text
		return nil
	}
	if text == "" {
		return &Error{Msg: "empty value"}
	}
	var err *Error
	switch p := field.(type) {
	case *int:
		*p, err = parseInt(text)
	case *bool:
		*p, err = parseBool(text)
	case *time.Duration:
		*p, err = parseSeconds(text)
	default:
		panic(fmt.Sprintf("config: option field of unsupported type %T", field))
	}
	return err
}

func parseInt(text string) (int, *Error) {
	n, err := strconv.Atoi(text)
	if err != nil {
		return 0, &Error{Value: text, Msg: "not an integer"}
	}
	return n, nil
}

// parseSeconds reads whole seconds, refusing counts a time.Duration cannot
// hold rather than letting them wrap into something in range.
func parseSeconds(text string) (time.Duration, *Error) {
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, &Error{Value: text, Msg: "not a whole number of seconds"}
	}
	if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
		return 0, &Error{Value: text, Msg: "too many seconds"}
	}
	return time.Duration(n) * time.Second, nil
}

// parseBool accepts the spellings Genesys configuration files use.
func parseBool(text string) (bool, *Error) {
	switch strings.ToLower(text) {
	case "true", "yes", "1":
		return true, nil
	case "false", "no", "0":
		return false, nil
	}
	return false, &Error{Value: text, Msg: "not a boolean (want true, false, yes, no, 1 or 0)"}
}

package config

import (
	"fmt"
	"strings"
)

// Error is one problem in a deployment file. Parse returns either a single
// *Error or several joined with errors.Join (one per line); find them with
// errors.As. Load returns the same, or the wrapped error of reading the file.
// Its message is one self-contained line, for example
//
//	deploy/x.yaml: application "chat-1": [settings] transcript-auto-save = 5: out of range 0-2
type Error struct {
	File    string // the file the deployment was read from
	App     string // the application; empty for problems outside one
	Section string // the options section, without brackets; empty for application keys
	Option  string // the option or application key (such as "listen"); may be empty
	Value   string // the offending value as written; may be empty
	Msg     string // what is wrong
}

// Error renders e as one line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.App != "" {
		fmt.Fprintf(&b, ": application %q", e.App)
	}
	var where []string
	if e.Section != "" {
		where = append(where, "["+e.Section+"]")
	}
	if e.Option != "" {
		where = append(where, e.Option)
	}
	if e.Value != "" {
		where = append(where, "= "+oneLine(e.Value))
	}
	if len(where) > 0 {
		b.WriteString(": " + strings.Join(where, " "))
	}
	b.WriteString(": " + oneLine(e.Msg))
	return b.String()
}

// oneLine keeps an error on one line even when a value or a YAML message
// spans several.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

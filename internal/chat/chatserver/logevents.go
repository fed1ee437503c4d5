package chatserver

import (
	"context"
	"fmt"
	"log/slog"
)

// logEvent is a numbered log event: a line an administrator's alarm rule
// matches by its id (the attribute event=ID), as Genesys alarms match a
// Chat Server's numbered log messages. docs/ha.md ("Log events") lists
// them; logEvents holds the list the documentation is checked against.
type logEvent struct {
	id     int
	level  slog.Level
	format string // the message, with fmt verbs for its values
}

// The numbered log events. The ids below 59900 are the seed's; the others
// are parley's own.
var (
	// evSessionDeleted is the seed's rolling-upgrade signal: a session
	// ended and its intermediate transcript is deleted; an administrator
	// draining a disabled chat server waits for current sessions=0.
	evSessionDeleted = logEvent{59245, slog.LevelInfo, "deleting session with sid=%s and intx=%s (current sessions=%d)"}
	// evStoreUnavailable and evStoreAvailable are the seed's Cassandra
	// status alarms, for the intermediate transcript store whichever it is.
	evStoreUnavailable = logEvent{59520, slog.LevelError, "%s status changed to \"UNAVAILABLE\": %v"}
	evStoreAvailable   = logEvent{59521, slog.LevelInfo, "%s status changed to \"AVAILABLE\""}
	evDisabled         = logEvent{59901, slog.LevelWarn, "chat server disabled by %s: it takes no new chats"}
	evEnabled          = logEvent{59902, slog.LevelInfo, "chat server enabled by %s"}
	evOrphanRestored   = logEvent{59903, slog.LevelInfo, "orphan restored: sid=%s from %s at epoch %d"}
	evOrphanFinalised  = logEvent{59904, slog.LevelInfo, "orphan finalised: sid=%s from %s at epoch %d"}
)

// logEvents lists every numbered log event, for the documentation's test.
var logEvents = []logEvent{evSessionDeleted, evStoreUnavailable, evStoreAvailable, evDisabled, evEnabled,
	evOrphanRestored, evOrphanFinalised}

// event logs ev with args filling its message's verbs.
func (s *Server) event(ev logEvent, args ...any) {
	s.log.Log(context.Background(), ev.level, fmt.Sprintf(ev.format, args...), "event", ev.id)
}

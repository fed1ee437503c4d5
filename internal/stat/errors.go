package stat

import "errors"

// Errors returned by parsers and Engine operations, wrapped with what was
// wrong. The stat server maps each to a wire error code (docs/stat.md).
var (
	// ErrInvalid is returned for a malformed mask, time profile, time
	// range, stat type or notification.
	ErrInvalid = errors.New("stat: invalid definition")
	// ErrNoSuchObject is returned for an object the configuration does not
	// know, or of a type the stat type does not apply to.
	ErrNoSuchObject = errors.New("stat: no such object")
	// ErrNoSuchStatType is returned for a stat type, time profile or time
	// range the configuration does not define.
	ErrNoSuchStatType = errors.New("stat: no such statistic definition")
	// ErrNoSuchStatistic is returned for a reference id no statistic of
	// the client is open under.
	ErrNoSuchStatistic = errors.New("stat: no such statistic")
	// ErrDuplicate is returned when a client opens a second statistic under
	// a reference id it already uses.
	ErrDuplicate = errors.New("stat: reference id already in use")
)

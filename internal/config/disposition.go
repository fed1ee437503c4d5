package config

import (
	"slices"
	"strings"
)

// DefaultDispositionCodes is disposition-codes by default.
const DefaultDispositionCodes = "Resolved, Follow-up needed, Escalated, No answer"

// Limits of disposition-codes.
const (
	maxDispositionCodes  = 30
	maxDispositionLength = 64
)

// DispositionCodes returns the codes disposition-codes lists, in order,
// trimmed, without empties and duplicates. Call it on validated settings.
func (s WebAPISettings) DispositionCodes() []string {
	var out []string
	for _, c := range strings.Split(s.Dispositions, ",") {
		if c = strings.TrimSpace(c); c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// validateDispositions checks disposition-codes: up to 30 codes of 1-64
// characters; empty means the desktop asks for none.
func (s WebAPISettings) validateDispositions() []*Error {
	codes := s.DispositionCodes()
	if len(codes) > maxDispositionCodes {
		return []*Error{{Option: "disposition-codes", Value: s.Dispositions, Msg: "at most 30 codes"}}
	}
	for _, c := range codes {
		if len(c) > maxDispositionLength {
			return []*Error{{Option: "disposition-codes", Value: c, Msg: "a code has at most 64 characters"}}
		}
	}
	return nil
}

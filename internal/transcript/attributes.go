package transcript

import (
	"bytes"
	"encoding/json"
	"slices"
)

// SystemAttributes is the key of the node of eventAttributes that only the
// chat server writes (quit-reason-code, public-api-notes §3.6). A party's
// own attributes never use it.
const SystemAttributes = "GCTI_SYSTEM"

// Attributes are the eventAttributes of a GMS message (public-api-notes
// §1.5): the flat string attributes the sending party gave its message or
// notice (Event.EventAttributes, e.g. {"purpose":"cancel-idle-timer"}), and
// System, the chat server's GCTI_SYSTEM node. In JSON they are one object:
// the party's keys beside "GCTI_SYSTEM"; a party key GCTI_SYSTEM is never
// written. The zero Attributes is no eventAttributes at all.
type Attributes struct {
	// Party is the sender's attributes, string values by key.
	Party map[string]string
	// System is the GCTI_SYSTEM node; nil when the event has none.
	System map[string]string
}

// IsZero reports whether a has nothing to write, so that omitzero leaves it out.
func (a Attributes) IsZero() bool { return a.System == nil && !a.hasParty() }

// hasParty reports whether a has a party key that is written.
func (a Attributes) hasParty() bool {
	_, sys := a.Party[SystemAttributes]
	return len(a.Party) > 1 || (len(a.Party) == 1 && !sys)
}

// appendJSON appends a as one object, keys sorted as encoding/json sorts a
// map's, a nil System written as no key.
func (a Attributes) appendJSON(b []byte) []byte {
	var buf [16]string
	keys := sortedKeys(buf[:0], a.Party)
	if i, found := slices.BinarySearch(keys, SystemAttributes); found {
		keys = slices.Delete(keys, i, i+1)
	}
	if a.System != nil {
		i, _ := slices.BinarySearch(keys, SystemAttributes)
		keys = slices.Insert(keys, i, SystemAttributes)
	}
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendJSONString(b, k), ':')
		if k == SystemAttributes {
			b = appendJSONStrings(b, a.System)
		} else {
			b = appendJSONString(b, a.Party[k])
		}
	}
	return append(b, '}')
}

// MarshalJSON writes a as one object, through encoding/json (without HTML
// escaping, as Final.JSON writes): the reference AppendJSON is held to.
func (a Attributes) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(a.Party)+1)
	for k, v := range a.Party {
		m[k] = v
	}
	delete(m, SystemAttributes)
	if a.System != nil {
		m[SystemAttributes] = a.System
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON reads an eventAttributes object: each string value is a
// party attribute, a GCTI_SYSTEM object the System node (its string values);
// values of other kinds are skipped, as a client skips what it does not know.
func (a *Attributes) UnmarshalJSON(b []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	*a = Attributes{}
	for k, raw := range fields {
		if k == SystemAttributes {
			a.System = stringFields(raw)
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil && len(raw) > 0 && raw[0] == '"' {
			if a.Party == nil {
				a.Party = make(map[string]string, len(fields))
			}
			a.Party[k] = s
		}
	}
	return nil
}

// stringFields is the string values of the object raw, or nil when raw is
// not an object.
func stringFields(raw json.RawMessage) map[string]string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil || fields == nil {
		return nil
	}
	m := make(map[string]string, len(fields))
	for k, v := range fields {
		var s string
		if len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil {
			m[k] = s
		}
	}
	return m
}

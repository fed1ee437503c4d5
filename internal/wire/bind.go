package wire

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// bindFast decodes body into v, a pointer to a struct, when body is in the
// plain shape of most requests: a JSON object whose values are strings
// without escapes or integers, each key naming, exactly and once, a string
// or int field of v (fields of embedded structs included, as encoding/json
// promotes them). It reports false, with v untouched, for anything else,
// which Bind's strict decoder then judges: it decides every error and every
// case encoding/json treats specially (case-insensitive keys, null, escapes,
// invalid UTF-8, duplicates). A chat server binds a body per request, and
// json.Decoder costs a buffer and a reflection walk each time.
func bindFast(body []byte, v any) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return false
	}
	var pairs [16]bindPair
	n, ok := scanPlain(body, bindPlan(rv.Elem().Type()), &pairs)
	if !ok {
		return false
	}
	for _, p := range pairs[:n] {
		fv := rv.Elem().FieldByIndex(p.f.index)
		if p.f.isInt {
			x, _ := strconv.ParseInt(string(p.val), 10, 64) // plainInt bounded it
			fv.SetInt(x)
		} else {
			fv.SetString(string(p.val[1 : len(p.val)-1]))
		}
	}
	return true
}

// bindPair is a member of a body: the field it names and its value as written.
type bindPair struct {
	f   *bindField
	val []byte
}

// scanPlain reads body's members into pairs and returns how many there are,
// or false when body is not a plain object of fields (see bindFast).
func scanPlain(body []byte, fields map[string]*bindField, pairs *[16]bindPair) (int, bool) {
	i := skipSpace(body, 0)
	if i == len(body) || body[i] != '{' {
		return 0, false
	}
	if i = skipSpace(body, i+1); i < len(body) && body[i] == '}' {
		return 0, skipSpace(body, i+1) == len(body)
	}
	var seen uint64
	for n := 0; n < len(pairs); n++ {
		p, end, ok := scanMember(body, i, fields)
		if !ok || seen&(1<<p.f.bit) != 0 {
			return 0, false
		}
		seen |= 1 << p.f.bit
		pairs[n] = p
		if i = skipSpace(body, end); i == len(body) {
			return 0, false
		}
		switch body[i] {
		case '}':
			return n + 1, skipSpace(body, i+1) == len(body)
		case ',':
			i = skipSpace(body, i+1)
		default:
			return 0, false
		}
	}
	return 0, false
}

// scanMember reads the member "key": value at i, and returns it and the
// index past it.
func scanMember(body []byte, i int, fields map[string]*bindField) (bindPair, int, bool) {
	key, end, ok := plainString(body, i)
	if !ok {
		return bindPair{}, 0, false
	}
	f := fields[string(key)]
	if f == nil {
		return bindPair{}, 0, false
	}
	if i = skipSpace(body, end); i == len(body) || body[i] != ':' {
		return bindPair{}, 0, false
	}
	i = skipSpace(body, i+1)
	if f.isInt {
		end, ok = plainInt(body, i)
	} else {
		_, end, ok = plainString(body, i)
	}
	if !ok {
		return bindPair{}, 0, false
	}
	return bindPair{f, body[i:end]}, end, true
}

// plainString returns the bytes between the quotes of the string starting
// at i, and the index past it. ok is false unless it is a JSON string with no
// escape and no control character, in valid UTF-8: one whose bytes are its
// value.
func plainString(b []byte, i int) (s []byte, end int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			s = b[i+1 : j]
			return s, j + 1, utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// plainInt returns the index past the integer starting at i: an optional
// minus and 1 to 18 digits without a leading zero, so that it fits an int64
// and is exactly what JSON and strconv both read.
func plainInt(b []byte, i int) (end int, ok bool) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	start := j
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	digits := j - start
	if digits == 0 || digits > 18 || (digits > 1 && b[start] == '0') {
		return 0, false
	}
	if j < len(b) {
		switch b[j] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	return j, true
}

// customDecoding reports whether encoding/json decodes t through a method of
// its own rather than by its kind.
func customDecoding(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(unmarshalerType) || p.Implements(unmarshalerType) ||
		t.Implements(textUnmarshalerType) || p.Implements(textUnmarshalerType)
}

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// bindField is a field bindFast can set: its index path, whether it is an
// int (else a string), and its bit among the type's fields.
type bindField struct {
	index []int
	isInt bool
	bit   uint
}

var bindPlans sync.Map // reflect.Type -> map[string]*bindField

// bindPlan returns the fields of struct type t that bindFast sets, by JSON
// name. A name that encoding/json might resolve otherwise (one that two
// fields claim) is left out, and so is a type of more than 64 fields.
func bindPlan(t reflect.Type) map[string]*bindField {
	if p, ok := bindPlans.Load(t); ok {
		return p.(map[string]*bindField)
	}
	fields := make(map[string]*bindField)
	if customDecoding(t) {
		bindPlans.Store(t, fields) // none: encoding/json calls its methods
		return fields
	}
	claimed := make(map[string]int)
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			sf := t.Field(i)
			path := append(index[:len(index):len(index)], i)
			name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
			switch {
			case sf.Anonymous && sf.Type.Kind() == reflect.Struct && name == "":
				walk(sf.Type, path)
				continue
			case !sf.IsExported() || name == "-":
				continue
			case name == "":
				name = sf.Name
			}
			claimed[name]++
			if customDecoding(sf.Type) || strings.Contains(","+opts+",", ",string,") {
				continue
			}
			switch sf.Type.Kind() {
			case reflect.String:
				fields[name] = &bindField{index: path}
			case reflect.Int, reflect.Int64:
				fields[name] = &bindField{index: path, isInt: true}
			}
		}
	}
	walk(t, nil)
	bit := uint(0)
	for name, f := range fields {
		if claimed[name] > 1 || bit == 64 {
			delete(fields, name)
			continue
		}
		f.bit = bit
		bit++
	}
	p, _ := bindPlans.LoadOrStore(t, fields)
	return p.(map[string]*bindField)
}

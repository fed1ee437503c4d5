package webapi

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/parley-chat/parley/internal/wire"
)

// Limits of a request's form.
const (
	// maxFormBytes bounds the body of every request but a file upload.
	maxFormBytes = 64 << 10
	// maxUserData bounds the userData[...] fields of one request.
	maxUserData = 100
	// maxKeyLen bounds a userData key.
	maxKeyLen = 256
	// maxIDLen bounds chatId, userId, secureKey and alias.
	maxIDLen = 128
)

// form is the parameters of one Chat API v2 request.
type form struct {
	values   map[string]string // the first value of each plain field
	userData map[string]string // the userData[key] fields, by key
	// attrs are the eventAttributes[key] fields, by key: the party's own
	// attributes of a message or notice; nil when there are none.
	attrs map[string]string
}

func (f form) get(name string) string { return f.values[name] }

// position reads an optional non-negative transcript position; absent is 0.
func (f form) position(name string) (int, error) {
	v, ok := f.values[name]
	if !ok || v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 0 {
		return 0, wire.Errorf(wire.CodeBadRequest, "%s must be a non-negative integer", name)
	}
	return int(n), nil
}

// readForm reads the request's url-encoded or multipart body, of at most
// limit bytes, and decodes it. A multipart body's fields other than the
// file are read into memory, at most maxFormBytes of them; its file part
// is returned unread, for the caller to stream once the request is checked,
// and what follows it is not read: an upload's fields come first, as the
// Genesys widgets send them. Nothing is ever spooled to disk.
func readForm(w http.ResponseWriter, r *http.Request, limit int64) (form, *multipart.Part, error) {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	var vals url.Values
	var file *multipart.Part
	var err error
	switch ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct {
	case "multipart/form-data":
		vals, file, err = readMultipart(r)
	case "application/x-www-form-urlencoded":
		vals, err = parseURLEncoded(r)
	case "": // ParseForm reads no body without a Content-Type
		err = r.ParseForm()
		vals = r.PostForm
	default:
		return form{}, nil, wire.Errorf(wire.CodeBadRequest, "unsupported Content-Type: use application/x-www-form-urlencoded or multipart/form-data")
	}
	if err != nil {
		return form{}, nil, formError(err, limit)
	}
	f, err := decodeForm(vals)
	return f, file, err
}

// readMultipart reads the fields of a multipart body up to its file part,
// which it returns unread (nil when there is none).
func readMultipart(r *http.Request) (url.Values, *multipart.Part, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, err
	}
	vals := make(url.Values)
	budget := int64(maxFormBytes)
	for {
		p, err := mr.NextPart()
		switch {
		case errors.Is(err, io.EOF):
			return vals, nil, nil
		case err != nil:
			return nil, nil, err
		case p.FormName() == "file":
			return vals, p, nil
		}
		b, err := io.ReadAll(io.LimitReader(p, budget+1))
		if budget -= int64(len(b)); err == nil && budget < 0 {
			err = &http.MaxBytesError{Limit: maxFormBytes}
		}
		if err != nil {
			return nil, nil, err
		}
		vals.Add(p.FormName(), string(b))
	}
}

// parseURLEncoded reads an url-encoded body as r.ParseForm does, less
// r.Form (the body's fields merged with the URL's), which is not used: a
// refresh is mostly this.
func parseURLEncoded(r *http.Request) (url.Values, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	vals, err := url.ParseQuery(string(body))
	if err == nil && r.URL.RawQuery != "" {
		_, err = url.ParseQuery(r.URL.RawQuery) // ParseForm refuses a malformed URL query too
	}
	return vals, err
}

func formError(err error, limit int64) *wire.Error {
	if mb, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return wire.Errorf(wire.CodeTooLarge, "request body (or the fields of an upload) larger than %d bytes", min(mb.Limit, limit))
	}
	return wire.Errorf(wire.CodeBadRequest, "malformed form")
}

// decodeForm splits the userData[key] and eventAttributes[key] fields from
// the plain ones. A field given more than once counts with its first value.
// eventAttributes[key] is how jQuery.param, which the official widget's
// REST transport posts with, writes an object.
func decodeForm(vals url.Values) (form, error) {
	f := form{values: make(map[string]string, len(vals)), userData: make(map[string]string)}
	for k, vs := range vals {
		if len(vs) == 0 {
			continue
		}
		ok, err := f.bracketed(k, vs[0])
		if err != nil {
			return form{}, err
		}
		if !ok {
			f.values[k] = vs[0]
		}
	}
	if len(f.userData) > maxUserData || len(f.attrs) > maxUserData {
		return form{}, wire.Errorf(wire.CodeBadRequest, "more than %d userData or eventAttributes fields", maxUserData)
	}
	return f, nil
}

// bracketed records the field name=value when name is userData[key] or
// eventAttributes[key], and reports whether it was one.
func (f *form) bracketed(name, value string) (bool, error) {
	if key, ok, err := bracketKey(name, "userData"); err != nil || ok {
		if ok {
			f.userData[key] = value
		}
		return ok, err
	}
	key, ok, err := bracketKey(name, "eventAttributes")
	if ok {
		if f.attrs == nil {
			f.attrs = make(map[string]string)
		}
		f.attrs[key] = value
	}
	return ok, err
}

// bracketKey returns the key of a field name prefix[key], and whether name
// is one; a name that starts like one but is malformed is an error.
func bracketKey(name, prefix string) (string, bool, error) {
	rest, ok := strings.CutPrefix(name, prefix+"[")
	if !ok {
		return "", false, nil
	}
	key, ok := strings.CutSuffix(rest, "]")
	switch {
	case !ok || strings.ContainsAny(key, "[]"):
		return "", false, wire.Errorf(wire.CodeBadRequest, "malformed %s field: want %s[key]", prefix, prefix)
	case key == "" || len(key) > maxKeyLen:
		return "", false, wire.Errorf(wire.CodeBadRequest, "%s key must be 1-%d bytes", prefix, maxKeyLen)
	}
	return key, true, nil
}

// partyOf reads the fields that name the client party of chatID in every
// request but request chat: userId, secureKey and alias.
func partyOf(f form, chatID string) (partyRef, string, error) {
	ref := partyRef{SessionID: chatID, UserID: f.get("userId"), SecureKey: f.get("secureKey")}
	alias := f.get("alias")
	for _, v := range []string{ref.SessionID, ref.UserID, ref.SecureKey, alias} {
		if v == "" || len(v) > maxIDLen {
			return partyRef{}, "", wire.Errorf(wire.CodeBadRequest, "chatId, userId, secureKey and alias are required (at most %d bytes each)", maxIDLen)
		}
	}
	return ref, alias, nil
}

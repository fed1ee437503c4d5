package webapi

import (
	"context"
	"crypto/subtle"
	"mime"
	"net/http"

	"github.com/parley-chat/parley/internal/wire"
)

// ntfPath is where a CometD client makes its file operations, over plain
// HTTP (public-api-notes §2.2): one URL, the operation in the form.
const ntfPath = "/genesys/2/chat-ntf"

// ntfOps maps the operations of chat-ntf to the REST file operations,
// whose code and envelopes they share. The limits go by both names
// Genesys clients send: "fileGetsLimits" (the mobile library, sic) and
// "fileGetLimits" (the official web widget).
var ntfOps = map[string]string{
	"fileGetsLimits": "limits",
	"fileGetLimits":  "limits",
	"fileUpload":     "upload",
	"fileDownload":   "download",
	"fileDelete":     "delete",
}

// serveNtf serves a file operation of a CometD client. Genesys clients
// send it without chatId, and some without userId or alias (only the
// secureKey the chat's CometD replies carried): the chat is then found
// in this web API's push table, where the client's CometD session put it.
// A multipart body without an operation is an upload.
func (s *Server) serveNtf(w http.ResponseWriter, r *http.Request) {
	if !s.posted(w, r, "chat-ntf") {
		return
	}
	q := &request{w: w, r: r}
	limit := int64(maxFormBytes)
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		limit = maxUploadBytes
	}
	f, file, err := readForm(w, r, limit)
	q.file = file
	name := f.get("operation")
	if name == "" && file != nil {
		name = "fileUpload"
	}
	o := s.ntfOperation(name)
	s.answer(q, o, func(ctx context.Context) (*envelope, error) {
		if err != nil {
			return nil, err
		}
		q.form = f
		if q.ref, q.alias, err = s.ntfParty(f); err != nil {
			return nil, err
		}
		return o.h(ctx, q)
	})
}

// ntfOperation returns the chat-ntf operation called name, by its REST twin.
func (s *Server) ntfOperation(name string) op {
	switch ntfOps[name] {
	case "limits":
		return op{name: name, h: s.fileLimits, limit: maxFormBytes}
	case "upload":
		o := s.operation("file")
		o.name = name
		return o
	case "download", "delete":
		o := s.fileOperation(ntfOps[name])
		o.name = name
		return o
	}
	return op{name: "unknown", h: unknownOperation, limit: maxFormBytes}
}

// ntfParty reads the party of a chat-ntf request. The fields the client
// left out come from the push subscription this web API holds for it,
// found by userId or, without one, by secureKey; it must match the
// subscription's secure key, so that a guess reveals no chat.
func (s *Server) ntfParty(f form) (partyRef, string, error) {
	chatID := f.get("chatId")
	if chatID == "" || f.get("userId") == "" || f.get("alias") == "" {
		sub := s.targets.find(f.get("userId"), f.get("secureKey"))
		if sub == nil || (chatID != "" && chatID != sub.ref.SessionID) {
			return partyRef{}, "", wire.Errorf(wire.CodeNoSuchUser,
				"no chat of this client on this web API: send chatId, userId, secureKey and alias, or subscribe over CometD first")
		}
		vals := make(map[string]string, len(f.values)+3)
		for k, v := range f.values {
			vals[k] = v
		}
		vals["userId"], vals["secureKey"] = sub.ref.UserID, sub.ref.SecureKey
		if vals["alias"] == "" {
			vals["alias"] = sub.server
		}
		f.values, chatID = vals, sub.ref.SessionID
	}
	return partyOf(f, chatID)
}

// find returns the subscription of the client party with secure key key,
// and user id userID unless that is empty, or nil.
func (ts *targets) find(userID, key string) *subscription {
	if key == "" {
		return nil
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for k, sub := range ts.m {
		if (userID == "" || k.userID == userID) && subtle.ConstantTimeCompare([]byte(sub.ref.SecureKey), []byte(key)) == 1 {
			return sub
		}
	}
	return nil
}
